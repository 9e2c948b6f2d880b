// InvoiceDocument: the HTML invoice or receipt of one invoice, rendered from
// templates/documents/<kind>.<locale>.html with the invoice's data as PostgreSQL holds it
// (client, lines, tax, credit, payments). Amounts are formatted from integer minor units
// with the currency's exponent ("1,234.50 USD" is never produced: "1234.50 USD").
//
// The data object the templates see (documented in templates/README.md):
//   kind ("invoice" | "receipt"), title, client {name, email, country, address, tax_id},
//   invoice {id, number, status, issue_date, due_date, currency, subtotal, tax, total,
//            credit_applied, amount_paid, balance_due, paid_at, period}
//   lines [{description, quantity, unit_amount, amount, kind}]   (tax lines apart)
//   taxes [{description, amount}]
//   payments [{amount, date, gateway, reference}]
//   payment {amount}   (the latest succeeded payment, or the amount paid; receipts)
// Thread-safety: stateless.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <pqxx/pqxx>
#include <string>

namespace artistsaid::plugins {

enum class InvoiceDocumentKind { kInvoice, kReceipt };

/// "invoice" / "receipt"; the documents.kind value is that plus "_html".
std::string to_string(InvoiceDocumentKind kind);
/// InputError for anything but "invoice" or "receipt".
InvoiceDocumentKind parse_invoice_document_kind(const std::string& text);

struct InvoiceDocumentData {
    long long invoice_id = 0;
    long long client_id = 0;
    std::string number;
    std::string status;  // invoices.status
    std::string to;      // the billing email (clients.email, else the user's)
    std::string to_name;
    std::string locale;  // the user's locale, else "en"
    nlohmann::json data;  // what the template sees (above)
};

class InvoiceDocument {
public:
    /// Loads the invoice; nullopt if there is none. An invoice still in draft (no number)
    /// is an InputError: it has no document.
    static std::optional<InvoiceDocumentData> load(pqxx::transaction_base& tx, long long invoice_id,
                                                   InvoiceDocumentKind kind);
    /// The HTML from `templates_dir`/<kind>.<locale>.html, falling back along the locale's
    /// tags (de-AT → de) and then to en. InputError for a missing template or variable.
    static std::string render(const InvoiceDocumentData& document, InvoiceDocumentKind kind,
                              const std::string& templates_dir, const std::string& locale);
};

}  // namespace artistsaid::plugins
