// GroupCommit without a database: every entry goes through exactly one batch, batches
// respect their size, callers return only after their batch ran, and an exception of a
// batch reaches every caller of that batch (and nobody else).
#include "engine/runtime/group_commit.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>
#include <vector>

using artistsaid::runtime::GroupCommit;

namespace {

struct Entry {
    int id = 0;
    int batches = 0;        // how many batches held it
    bool committed = false; // set by the batch before submit() returns
};

}  // namespace

TEST_CASE("Runtime.GroupCommit.EveryEntryGoesThroughExactlyOneBatch") {
    for (int threads : {1, 2, 8}) {
        for (int leaders : {1, 2}) {
            CAPTURE(threads);
            CAPTURE(leaders);
            GroupCommit<Entry> group(4, leaders);
            std::atomic<int> running{0}, max_running{0};
            std::mutex seen_mutex;
            std::set<int> seen;
            size_t largest = 0;
            std::atomic<int> returned_uncommitted{0};
            std::vector<std::thread> pool;
            const int per_thread = 200;
            for (int t = 0; t < threads; ++t) {
                pool.emplace_back([&, t] {
                    for (int i = 0; i < per_thread; ++i) {
                        Entry e;
                        e.id = t * per_thread + i;
                        group.submit(e, [&](const std::vector<Entry*>& batch) {
                            int now = ++running;
                            int seen_max = max_running.load();
                            while (now > seen_max && !max_running.compare_exchange_weak(seen_max, now)) {
                            }
                            {
                                std::lock_guard lock(seen_mutex);
                                largest = std::max(largest, batch.size());
                                for (Entry* x : batch) seen.insert(x->id);
                            }
                            std::this_thread::yield();
                            for (Entry* x : batch) {
                                ++x->batches;
                                x->committed = true;
                            }
                            --running;
                        });
                        if (!e.committed || e.batches != 1) ++returned_uncommitted;
                    }
                });
            }
            for (auto& t : pool) t.join();
            CHECK(returned_uncommitted == 0);
            CHECK(seen.size() == static_cast<size_t>(threads * per_thread));
            CHECK(largest <= 4);
            CHECK(max_running <= leaders);
            auto [batches, entries] = group.counts();
            CHECK(entries == static_cast<size_t>(threads * per_thread));
            CHECK(batches <= entries);
        }
    }
}

TEST_CASE("Runtime.GroupCommit.ABatchThatThrowsFailsEachOfItsCallers") {
    GroupCommit<Entry> group(8, 1);
    Entry e;
    CHECK_THROWS_WITH_AS(group.submit(e, [](const std::vector<Entry*>&) {
        throw std::runtime_error("commit failed");
    }),
                         "commit failed", std::runtime_error);
    // The group is usable afterwards: the failed leader gave its slot back.
    Entry f;
    group.submit(f, [](const std::vector<Entry*>& batch) {
        for (Entry* x : batch) x->committed = true;
    });
    CHECK(f.committed);
}
