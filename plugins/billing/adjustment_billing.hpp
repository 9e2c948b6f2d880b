// AdjustmentBilling: the phase of InvoiceGenerator that bills pending subscription
// adjustments (the proration lines PlanChanger records), set-based, in the run's transaction.
//
//   collect()           every adjustment not yet invoiced whose effective date is on or before
//                       the run's cutoff becomes a 'proration' line of its client's invoice
//                       (taxed by the run's rules with the other lines).
//   defer_unbillable()  a client and currency whose invoice would come out negative (a
//                       downgrade's credit larger than what the run bills them) keeps its
//                       adjustments pending for a later run instead: an invoice never goes
//                       below zero, and no credit is lost.
//   mark_billed()       sets invoice_id on the adjustments billed, in the same transaction as
//                       the invoices: a later run finds them invoiced and bills nothing.
// Exactly once: runs are serialised by the generator's advisory lock, and an adjustment is
// billed only while invoice_id IS NULL.
#pragma once

#include <pqxx/pqxx>
#include <string>

namespace artistsaid::billing {

class AdjustmentBilling {
public:
    /// Needs the generator's temp table bill_lines; creates bill_adjustments. Returns the
    /// number of proration lines added. Only clients whose id % partitions == partition
    /// (1 and 0: all).
    static long long collect(pqxx::work& tx, const std::string& cutoff, int partitions = 1,
                        int partition = 0);
    /// Needs bill_taxed (after the tax phase). Only needed when collect() added lines.
    static void defer_unbillable(pqxx::work& tx);
    /// Needs bill_invoice_ids (after the invoices are inserted).
    static void mark_billed(pqxx::work& tx);
};

}  // namespace artistsaid::billing
