#include "plugins/billing/batch_payment_recorder.hpp"

#include <algorithm>
#include <map>
#include <pqxx/pqxx>
#include <set>
#include <string>
#include <tuple>

#include "engine/core/error.hpp"
#include "engine/store/pg_array_literal.hpp"

namespace artistsaid::billing {
namespace {

// Locks are taken row by row in the order of the (sorted) id array: a lateral subquery per
// id, so each row is reached through its primary key whatever the table's statistics say,
// and locked when the nested loop reaches it. The ctids come back for the UPDATEs that follow
// (we hold the rows' locks: they cannot move until we update them).
constexpr const char* kLockPayments =
    "SELECT p.row, p.id, p.invoice_id, p.amount, p.currency, p.idempotency_key, p.status, "
    "p.ledger_transaction_id IS NULL FROM unnest($1::bigint[]) AS x(id) CROSS JOIN LATERAL "
    "(SELECT ctid AS row, id, invoice_id, amount, currency, idempotency_key, status, "
    "ledger_transaction_id FROM payments WHERE id = x.id FOR UPDATE) p";
constexpr const char* kLockInvoices =
    "SELECT i.row, i.id, i.client_id, i.status, i.total, i.credit_applied, i.amount_paid "
    "FROM unnest($1::bigint[]) AS x(id) CROSS JOIN LATERAL (SELECT ctid AS row, id, "
    "client_id, status, total, credit_applied, amount_paid FROM invoices WHERE id = x.id "
    "FOR UPDATE) i";

// A payment to post with its (locked) invoice's state.
struct ToPost {
    std::int64_t payment_id = 0;
    std::int64_t invoice_id = 0;
    std::int64_t amount = 0;
    std::string currency;
    std::string key;
    std::int64_t client_id = 0;
    std::string invoice_row;
    std::string invoice_status;
    std::int64_t total = 0;
    std::int64_t credit_applied = 0;
    std::int64_t amount_paid = 0;
};

struct Posting {
    std::int64_t payment_id = 0;
    std::int64_t invoice_id = 0;
    std::int64_t client_id = 0;
    std::int64_t amount = 0;
    std::int64_t overpaid = 0;
    std::string currency;
    std::string key;
    std::string invoice_row;  // the locked invoice's ctid
    std::int64_t txn = 0;
};

std::int64_t checked_add(std::int64_t a, std::int64_t b) {
    std::int64_t sum = 0;
    if (__builtin_add_overflow(a, b, &sum))
        throw WorkError("payment batch: the sum of its amounts overflows 64 bits");
    return sum;
}

std::string ids_literal(std::vector<std::int64_t> ids) {
    std::sort(ids.begin(), ids.end());
    store::PgArrayLiteral a;
    for (auto id : ids) a.add(static_cast<long long>(id));
    return a.release();
}

// A locked payment: its ctid and its status when locked (it cannot change until we commit).
struct LockedRow {
    std::string row;
    std::string status;
};

// Locks every payment of `all` (id order), then the invoices of those of `to_post` that have
// `status` and no posting yet (id order). Returns them in (invoice, payment) order, and every
// locked payment's ctid and status.
struct Locked {
    std::vector<ToPost> to_post;
    std::map<std::int64_t, LockedRow> row_of;
};

Locked lock_and_read(pqxx::transaction_base& tx, const std::vector<std::int64_t>& all,
                     const std::vector<std::int64_t>& to_post, const std::string& status) {
    Locked out;
    const std::set<std::int64_t> wanted(to_post.begin(), to_post.end());
    std::vector<std::int64_t> invoice_ids;
    for (const auto& r : tx.exec_params(kLockPayments, ids_literal(all))) {
        const auto id = r[1].as<std::int64_t>();
        out.row_of[id] = {r[0].as<std::string>(), r[6].as<std::string>()};
        if (!wanted.count(id) || r[6].as<std::string>() != status || !r[7].as<bool>()) continue;
        ToPost p;
        p.payment_id = id;
        p.invoice_id = r[2].as<std::int64_t>();
        p.amount = r[3].as<std::int64_t>();
        p.currency = r[4].as<std::string>();
        p.key = r[5].as<std::string>();
        invoice_ids.push_back(p.invoice_id);
        out.to_post.push_back(std::move(p));
    }
    if (out.to_post.empty()) return out;
    std::sort(invoice_ids.begin(), invoice_ids.end());
    invoice_ids.erase(std::unique(invoice_ids.begin(), invoice_ids.end()), invoice_ids.end());
    std::map<std::int64_t, pqxx::row> invoices;
    const auto rows = tx.exec_params(kLockInvoices, ids_literal(invoice_ids));
    for (const auto& r : rows) invoices.emplace(r[1].as<std::int64_t>(), r);
    for (auto& p : out.to_post) {
        const auto& r = invoices.at(p.invoice_id);
        p.invoice_row = r[0].as<std::string>();
        p.client_id = r[2].as<std::int64_t>();
        p.invoice_status = r[3].as<std::string>();
        p.total = r[4].as<std::int64_t>();
        p.credit_applied = r[5].as<std::int64_t>();
        p.amount_paid = r[6].as<std::int64_t>();
    }
    std::sort(out.to_post.begin(), out.to_post.end(), [](const ToPost& a, const ToPost& b) {
        return std::tie(a.invoice_id, a.payment_id) < std::tie(b.invoice_id, b.payment_id);
    });
    return out;
}

// Posts the payments of `rows` (their invoices locked, in (invoice, payment) order): invoices,
// one ledger transaction per currency with the summed entries, overpayment credits. Returns
// each payment with its ledger transaction; the caller links them in this transaction.
std::vector<Posting> post(pqxx::transaction_base& tx, const std::vector<ToPost>& rows) {
    std::vector<Posting> postings;
    if (rows.empty()) return postings;

    struct InvoiceState {
        std::string row;
        std::string status;
        std::int64_t paid = 0;
        std::int64_t added = 0;
        bool now_paid = false;
    };
    std::map<std::int64_t, InvoiceState> invoices;
    struct CurrencySum {
        std::int64_t first_payment = 0;
        long long count = 0;
        std::int64_t amount = 0;
        std::int64_t overpaid = 0;
        std::int64_t txn = 0;
    };
    std::map<std::string, CurrencySum> currencies;
    for (const auto& r : rows) {
        Posting p;
        p.payment_id = r.payment_id;
        p.invoice_id = r.invoice_id;
        p.client_id = r.client_id;
        p.amount = r.amount;
        p.currency = r.currency;
        p.key = r.key;
        p.invoice_row = r.invoice_row;
        auto [it, fresh] = invoices.try_emplace(p.invoice_id);
        auto& inv = it->second;
        if (fresh) {
            inv.row = p.invoice_row;
            inv.status = r.invoice_status;
            inv.paid = r.amount_paid;
        }
        const auto total = r.total;
        const auto credit = r.credit_applied;
        // As PaymentRecorder::record_resolved: money for an invoice no longer collectable
        // (cancelled meanwhile) is the client's, all of it credit.
        const bool collectable = inv.status == "unpaid" || inv.status == "paid";
        const std::int64_t due_before =
            collectable ? std::max<std::int64_t>(0, total - credit - inv.paid) : 0;
        p.overpaid = std::max<std::int64_t>(0, p.amount - due_before);
        const bool paid = collectable && inv.paid + p.amount + credit >= total;
        inv.paid = checked_add(inv.paid, p.amount);
        inv.added = checked_add(inv.added, p.amount);
        if (paid) {
            inv.status = "paid";
            inv.now_paid = true;
        }
        auto& sum = currencies[p.currency];
        if (sum.count == 0 || p.payment_id < sum.first_payment) sum.first_payment = p.payment_id;
        ++sum.count;
        sum.amount = checked_add(sum.amount, p.amount);
        sum.overpaid = checked_add(sum.overpaid, p.overpaid);
        postings.push_back(std::move(p));
    }

    // The locked invoices by their ctids (a TID scan per row: no plan can scan the table).
    store::PgArrayLiteral inv_rows, inv_ids, inv_added, inv_paid;
    for (const auto& [id, inv] : invoices) {
        inv_rows.add(inv.row);
        inv_ids.add(static_cast<long long>(id));
        inv_added.add(static_cast<long long>(inv.added));
        inv_paid.add(inv.now_paid);
    }
    const auto updated = tx.exec_params(
        "UPDATE invoices i SET amount_paid = i.amount_paid + x.added, "
        "status = CASE WHEN x.paid THEN 'paid' ELSE i.status END, "
        "paid_at = CASE WHEN x.paid AND i.paid_at IS NULL THEN now() ELSE i.paid_at END, "
        "updated_at = now() FROM unnest($1::tid[], $2::bigint[], $3::bigint[], $4::boolean[]) "
        "AS x(row, invoice_id, added, paid) WHERE i.ctid = x.row AND i.id = x.invoice_id "
        "RETURNING i.id",
        inv_rows.release(), inv_ids.release(), inv_added.release(), inv_paid.release());
    if (updated.size() != invoices.size())
        throw WorkError("payment batch: updated " + std::to_string(updated.size()) + " of " +
                        std::to_string(invoices.size()) + " locked invoices");

    // One ledger transaction per currency, then its (at most three) summed entries. Its key
    // and reference name the first payment it posts: a payment is posted once, so no two
    // postings share a first payment.
    store::PgArrayLiteral firsts, codes, counts;
    for (const auto& [code, sum] : currencies) {
        firsts.add(static_cast<long long>(sum.first_payment));
        codes.add(code);
        counts.add(sum.count);
    }
    std::map<std::string, std::string> currency_of_reference;
    for (const auto& [code, sum] : currencies)
        currency_of_reference["payment_batch:" + std::to_string(sum.first_payment)] = code;
    for (const auto& r : tx.exec_params(
             "INSERT INTO ledger_transactions (kind, reference, idempotency_key, description) "
             "SELECT 'payment.succeeded', 'payment_batch:' || x.first, "
             "'payment_batch:' || x.first || ':ledger', x.n || ' payments in ' || x.currency "
             "FROM unnest($1::bigint[], $2::text[], $3::bigint[]) AS x(first, currency, n) "
             "ORDER BY x.first RETURNING reference, id",
             firsts.release(), codes.release(), counts.release()))
        currencies.at(currency_of_reference.at(r[0].as<std::string>())).txn = r[1].as<std::int64_t>();

    store::PgArrayLiteral txns, entry_codes, amounts, overpaids;
    for (const auto& [code, sum] : currencies) {
        txns.add(static_cast<long long>(sum.txn));
        entry_codes.add(code);
        amounts.add(static_cast<long long>(sum.amount));
        overpaids.add(static_cast<long long>(sum.overpaid));
    }
    tx.exec_params0(
        "INSERT INTO ledger_entries (transaction_id, account_id, amount, currency) "
        "SELECT x.txn, a.id, e.amount, x.currency FROM unnest($1::bigint[], $2::text[], "
        "$3::bigint[], $4::bigint[]) AS x(txn, currency, amount, overpaid) "
        "CROSS JOIN LATERAL (VALUES (1, 'gateway_clearing', x.amount), "
        "  (2, 'receivable', -(x.amount - x.overpaid)), (3, 'client_credit', -x.overpaid)) "
        "  AS e(ord, account, amount) JOIN ledger_accounts a ON a.code = e.account "
        "WHERE e.amount <> 0 ORDER BY x.txn, e.ord",
        txns.release(), entry_codes.release(), amounts.release(), overpaids.release());

    for (auto& p : postings) p.txn = currencies.at(p.currency).txn;

    // Overpayments: one credits row per payment (refunds find a payment's overpayment by
    // its key), in (client, currency) order: the balance rows their trigger updates are
    // locked in one order by every batch.
    std::vector<const Posting*> over;
    for (const auto& p : postings)
        if (p.overpaid > 0) over.push_back(&p);
    if (!over.empty()) {
        std::sort(over.begin(), over.end(), [](const Posting* a, const Posting* b) {
            return std::tie(a->client_id, a->currency, a->payment_id) <
                   std::tie(b->client_id, b->currency, b->payment_id);
        });
        store::PgArrayLiteral clients, ccy, amount, invoice, txn, key;
        for (const auto* p : over) {
            clients.add(static_cast<long long>(p->client_id));
            ccy.add(p->currency);
            amount.add(static_cast<long long>(p->overpaid));
            invoice.add(static_cast<long long>(p->invoice_id));
            txn.add(static_cast<long long>(p->txn));
            key.add(p->key);
        }
        tx.exec_params0(
            "INSERT INTO credits (client_id, currency, amount, kind, invoice_id, "
            "ledger_transaction_id, idempotency_key, description) "
            "SELECT x.client_id, x.currency, x.overpaid, 'overpayment', x.invoice_id, x.txn, "
            "x.key || ':overpayment', 'overpayment of invoice ' || x.invoice_id "
            "FROM unnest($1::bigint[], $2::text[], $3::bigint[], $4::bigint[], $5::bigint[], "
            "$6::text[]) WITH ORDINALITY AS x(client_id, currency, overpaid, invoice_id, txn, "
            "key, ord) ORDER BY x.ord",
            clients.release(), ccy.release(), amount.release(), invoice.release(),
            txn.release(), key.release());
    }
    return postings;
}

}  // namespace

BatchRecorded BatchPaymentRecorder::record_outcomes(pqxx::transaction_base& tx,
                                                    const std::vector<PaymentOutcome>& outcomes) {
    BatchRecorded out;
    if (outcomes.empty()) return out;
    std::vector<std::int64_t> all;
    std::vector<std::int64_t> succeeded;
    for (const auto& o : outcomes) {
        all.push_back(o.payment_id);
        if (o.status == "succeeded") succeeded.push_back(o.payment_id);
    }
    const auto locked = lock_and_read(tx, all, succeeded, "unknown");
    const auto postings = post(tx, locked.to_post);
    std::map<std::int64_t, std::int64_t> txn_of;
    for (const auto& p : postings) txn_of[p.payment_id] = p.txn;

    // Every outcome in one statement, the succeeded ones with their posting. Only payments
    // that were unknown when locked are settled here; a succeeded outcome that was not posted
    // (its row was no longer unknown) is left alone: whoever changed the row owns it.
    store::PgArrayLiteral rows, ids, statuses, references, declines, errors, txns;
    for (const auto& o : outcomes) {
        const auto posted = txn_of.find(o.payment_id);
        if (o.status == "succeeded" && posted == txn_of.end()) continue;
        const auto row = locked.row_of.find(o.payment_id);
        if (row == locked.row_of.end()) continue;  // no such payment
        if (row->second.status != "unknown") continue;
        rows.add(row->second.row);
        ids.add(static_cast<long long>(o.payment_id));
        statuses.add(o.status);
        references.add_or_null(o.reference);
        declines.add_or_null(o.decline_code);
        errors.add_or_null(o.error);
        if (posted == txn_of.end())
            txns.add_null();
        else
            txns.add(static_cast<long long>(posted->second));
    }
    // Each row through its ctid, joined from the arrays (a TID scan per row). No status
    // condition here: it would let the planner, which thinks the table is small while a run
    // fills it, read payments_unresolved_idx instead, whose entries for the rows earlier
    // batches settled are dead but still read by every bitmap scan until vacuum: 40 ms per
    // batch at 100,000 payments, growing with the run.
    std::size_t linked = 0;
    for (const auto& r : tx.exec_params(
             "UPDATE payments p SET status = x.status, gateway_reference = "
             "coalesce(x.reference, p.gateway_reference), decline_code = x.decline_code, "
             "error = x.error, updated_at = now(), resolved_at = CASE WHEN x.status IN "
             "('succeeded', 'declined', 'failed') THEN now() END, ledger_transaction_id = x.txn "
             "FROM unnest($1::tid[], $2::bigint[], $3::text[], $4::text[], $5::text[], "
             "$6::text[], $7::bigint[]) AS x(row, payment_id, status, reference, decline_code, "
             "error, txn) WHERE p.ctid = x.row AND p.id = x.payment_id "
             "RETURNING p.ledger_transaction_id IS NOT NULL",
             rows.release(), ids.release(), statuses.release(), references.release(), declines.release(),
             errors.release(), txns.release())) {
        ++out.settled;
        if (r[0].as<bool>()) ++linked;
    }
    // The posted rows were locked and unknown: each must have been updated and linked.
    if (linked != postings.size())
        throw WorkError("payment batch: posted " + std::to_string(postings.size()) +
                        " payments but linked " + std::to_string(linked));
    out.posted = postings.size();
    std::set<std::int64_t> distinct;
    for (const auto& p : postings) distinct.insert(p.txn);
    out.ledger_transactions = distinct.size();
    return out;
}

std::size_t BatchPaymentRecorder::record_resolved(pqxx::transaction_base& tx,
                                                  const std::vector<std::int64_t>& payment_ids) {
    if (payment_ids.empty()) return 0;
    const auto locked = lock_and_read(tx, payment_ids, payment_ids, "succeeded");
    const auto postings = post(tx, locked.to_post);
    if (postings.empty()) return 0;
    store::PgArrayLiteral rows, linked_ids, txns;
    for (const auto& p : postings) {
        rows.add(locked.row_of.at(p.payment_id).row);
        linked_ids.add(static_cast<long long>(p.payment_id));
        txns.add(static_cast<long long>(p.txn));
    }
    const auto linked = tx.exec_params(
        "UPDATE payments p SET ledger_transaction_id = x.txn, updated_at = now() "
        "FROM unnest($1::tid[], $2::bigint[], $3::bigint[]) AS x(row, payment_id, txn) "
        "WHERE p.ctid = x.row AND p.id = x.payment_id AND "
        "p.ledger_transaction_id IS NULL RETURNING p.id",
        rows.release(), linked_ids.release(), txns.release());
    if (linked.size() != postings.size())
        throw WorkError("payment batch: posted " + std::to_string(postings.size()) +
                        " payments but linked " + std::to_string(linked.size()));
    return postings.size();
}

}  // namespace artistsaid::billing
