// Settings of one worker process (`artistsaid worker`); every wait has a bound here.
#pragma once

#include <chrono>
#include <string>
#include <vector>

namespace artistsaid::worker {

struct WorkerOptions {
    std::string redis_url;
    std::string prefix = "artistsaid";
    /// Fetched in this order: a later queue gets work only when the earlier ones are empty.
    std::vector<std::string> queues{"default"};
    int concurrency = 8;
    /// How long a fetched job is leased; renewed every third of it while the job runs, so
    /// a job whose worker died is delivered again about one lease after the death.
    std::chrono::milliseconds lease{5000};
    /// On SIGTERM, how long running jobs may take to finish before they are given back.
    std::chrono::milliseconds grace{30000};
    std::chrono::milliseconds heartbeat{5000};
    std::chrono::milliseconds connect_timeout{5000};
    std::chrono::milliseconds command_timeout{5000};
    /// Jobs fetched ahead of free processors are bounded by this many…
    int max_prefetch = 1000;
    /// …and by about this much work at the measured average job duration, so short jobs
    /// are fetched in big batches and long ones are not hoarded from other workers.
    std::chrono::microseconds prefetch_window{10000};
    /// Longest single block waiting for work (a safety net; enqueues wake it at once).
    std::chrono::milliseconds max_idle_block{2000};
};

}  // namespace artistsaid::worker
