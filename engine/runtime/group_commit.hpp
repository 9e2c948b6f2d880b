// Group commit for concurrent callers: each caller submits an entry and blocks; a caller
// that finds a free leader slot becomes the leader, takes every entry waiting (at most
// max_batch) and runs them as one batch — one transaction, one commit — on its own
// thread; then every caller of that batch returns. While a batch commits, new entries
// gather for the next one, so under load a commit serves many callers, and a lone caller
// leads a batch of one at once (it never waits for company).
//
// At most `max_leaders` batches run at a time (each on its leader's own connection), so
// one batch's commit overlaps the next one's work.
//
// Guarantee: submit() returns only after the batch that held the entry finished, i.e.
// after its commit (or its failure, recorded in the entry by run_batch). run_batch should
// record each entry's outcome in the entry; if it throws all the same, every caller of that
// batch gets the exception (no caller is left waiting, none returns as if it succeeded).
//
// Thread-safety: submit() may be called from any number of threads.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <exception>
#include <mutex>
#include <utility>
#include <vector>

namespace artistsaid::runtime {

template <typename Entry>
class GroupCommit {
public:
    GroupCommit(size_t max_batch, int max_leaders)
        : max_batch_(max_batch < 1 ? 1 : max_batch), max_leaders_(max_leaders < 1 ? 1 : max_leaders) {}
    GroupCommit(const GroupCommit&) = delete;
    GroupCommit& operator=(const GroupCommit&) = delete;

    /// Blocks until `entry` went through a batch. `run_batch(std::vector<Entry*>&)` runs on
    /// the leader's thread — this thread or another caller's, whichever leads.
    template <typename RunBatch>
    void submit(Entry& entry, RunBatch&& run_batch) {
        Slot slot;
        slot.entry = &entry;
        std::unique_lock lock(mutex_);
        waiting_.push_back(&slot);
        for (;;) {
            if (slot.done) {
                if (slot.error) std::rethrow_exception(slot.error);
                return;
            }
            // Lead when a slot is free and this entry has not been taken by a leader yet.
            if (leaders_ < max_leaders_ && !slot.taken) {
                ++leaders_;
                std::vector<Slot*> batch;
                while (!waiting_.empty() && batch.size() < max_batch_) {
                    batch.push_back(waiting_.front());
                    batch.back()->taken = true;
                    waiting_.pop_front();
                }
                lock.unlock();
                std::vector<Entry*> entries;
                entries.reserve(batch.size());
                for (Slot* s : batch) entries.push_back(s->entry);
                std::exception_ptr error;
                try {
                    run_batch(entries);
                } catch (...) {
                    error = std::current_exception();
                }
                lock.lock();
                // Only the callers of this batch are woken (each waits on its own slot),
                // and the oldest waiting caller, to lead the next batch: waking every
                // waiting thread after each batch cost more CPU than the starts it woke.
                // The slots are touched under the lock only: a caller whose slot is done
                // may return (and its slot end) as soon as the lock is free.
                for (Slot* s : batch) {
                    s->error = error;
                    s->done = true;
                    s->wake.notify_one();
                }
                --leaders_;
                ++batches_;
                entries_ += batch.size();
                if (!waiting_.empty()) waiting_.front()->wake.notify_one();
                continue;
            }
            // A follower: its batch is bounded by the leader's transaction (statement
            // timeout on every statement); the periodic wake-up only re-checks.
            slot.wake.wait_for(lock, std::chrono::milliseconds(100));
        }
    }

    /// Batches run and entries they held, since construction (for tests and benchmarks).
    std::pair<size_t, size_t> counts() const {
        std::lock_guard lock(mutex_);
        return {batches_, entries_};
    }

private:
    struct Slot {
        Entry* entry = nullptr;
        bool done = false;
        bool taken = false;
        std::exception_ptr error;
        std::condition_variable wake;  // its batch finished, or it may lead the next one
    };
    const size_t max_batch_;
    const int max_leaders_;
    mutable std::mutex mutex_;
    std::deque<Slot*> waiting_;
    int leaders_ = 0;
    size_t batches_ = 0, entries_ = 0;
};

}  // namespace artistsaid::runtime
