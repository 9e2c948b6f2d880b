// Where the items of a for_each come from: an inline array, or a handle that the run-time
// reads page by page, so a fan-out over a million items never holds them all in memory.
//
//   [a, b, c]                                          inline (at most kMaxInlineItems)
//   {"$range": {"start": 0, "count": N, "step": 1}}    the integers start, start+step, …
//   {"$collection": {"id": "<uuid>"}}                  rows of collection_items (a step
//                                                      filled them, e.g. from a query)
//   {"$step_outputs": {"step": "<id>"}}                each item's outputs of an earlier
//                                                      for_each step of the same run (the
//                                                      `results` of a large fan-out)
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

namespace artistsaid::runtime {

/// The parsed form of a for_each collection, and what step_fanouts.source stores.
///
/// Thread-safety: a plain value.
/// Guarantee: from_value() accepts only the shapes above and refuses anything else with an
/// InputError naming what was expected, so a bad collection fails the step, not the worker.
class CollectionSource {
public:
    enum class Kind { kInline, kRange, kCollection, kStepOutputs };

    /// Inline arrays longer than this are refused: a large fan-out uses a handle.
    static constexpr std::int64_t kMaxInlineItems = 10'000;
    /// A $range may not be longer than this.
    static constexpr std::int64_t kMaxRangeItems = 1'000'000'000'000;

    /// Parses the value a for_each expression gave.
    static CollectionSource from_value(const nlohmann::json& value);
    /// Reads back what stored() wrote.
    static CollectionSource from_stored(const nlohmann::json& stored);

    Kind kind() const noexcept { return kind_; }
    /// Number of items; for a $collection and $step_outputs known once the run-time looked
    /// the collection up (set_total()).
    std::int64_t total() const noexcept { return total_; }
    void set_total(std::int64_t total) noexcept { total_ = total; }
    /// The collection's id ($collection) or the step's id ($step_outputs).
    const std::string& reference() const noexcept { return reference_; }
    /// {"kind": "inline" | "range" | "collection" | "step_outputs", ...}: what the claim
    /// statements read items from.
    const nlohmann::json& stored() const noexcept { return stored_; }

private:
    Kind kind_ = Kind::kInline;
    std::int64_t total_ = 0;
    std::string reference_;
    nlohmann::json stored_;
};

/// True if `value` is a collection handle ({"$range": …}, {"$collection": …}, …).
bool is_collection_handle(const nlohmann::json& value);

}  // namespace artistsaid::runtime
