#include "plugins/documents/invoice_document.hpp"

#include "engine/core/error.hpp"
#include "engine/core/money.hpp"
#include "engine/store/database.hpp"
#include "plugins/email/template_text.hpp"

namespace artistsaid::plugins {
namespace {

std::string text_or(const pqxx::field& f, const std::string& fallback = "") {
    return f.is_null() ? fallback : f.as<std::string>();
}

}  // namespace

std::string to_string(InvoiceDocumentKind kind) {
    return kind == InvoiceDocumentKind::kInvoice ? "invoice" : "receipt";
}

InvoiceDocumentKind parse_invoice_document_kind(const std::string& text) {
    if (text == "invoice") return InvoiceDocumentKind::kInvoice;
    if (text == "receipt") return InvoiceDocumentKind::kReceipt;
    throw InputError("document kind '" + text.substr(0, 20) + "' must be invoice or receipt");
}

std::optional<InvoiceDocumentData> InvoiceDocument::load(pqxx::transaction_base& tx,
                                                         long long invoice_id,
                                                         InvoiceDocumentKind kind) {
    auto head = tx.exec_params(
        "SELECT i.id, i.client_id, i.number, i.status, i.issue_date::text, i.due_date::text, "
        "       i.currency, i.subtotal, i.tax, i.total, i.credit_applied, i.amount_paid, "
        "       to_char(i.paid_at AT TIME ZONE 'UTC', 'YYYY-MM-DD'), "
        "       i.period_start::text, (i.period_end - 1)::text, "
        "       c.name, coalesce(c.email, u.email), c.country, coalesce(c.address, ''), "
        "       coalesce(c.tax_id, ''), coalesce(u.locale, 'en') "
        "FROM invoices i JOIN clients c ON c.id = i.client_id "
        "LEFT JOIN users u ON u.id = c.user_id WHERE i.id = $1",
        invoice_id);
    if (head.empty()) return std::nullopt;
    const auto& h = head[0];
    if (h[2].is_null())
        throw InputError("invoice " + std::to_string(invoice_id) + " is a draft: it has no number yet");
    const Currency currency = Currency::from_code(h[6].as<std::string>());
    auto money = [&](std::int64_t minor) { return Money(minor, currency).to_string(); };

    InvoiceDocumentData d;
    d.invoice_id = h[0].as<long long>();
    d.client_id = h[1].as<long long>();
    d.number = h[2].as<std::string>();
    d.status = h[3].as<std::string>();
    d.to = text_or(h[16]);
    d.to_name = h[15].as<std::string>();
    d.locale = h[20].as<std::string>();
    const auto total = h[9].as<std::int64_t>();
    const auto credit = h[10].as<std::int64_t>();
    const auto paid = h[11].as<std::int64_t>();
    const std::int64_t balance = std::max<std::int64_t>(0, total - credit - paid);

    nlohmann::json invoice = {
        {"id", d.invoice_id},
        {"number", d.number},
        {"status", d.status},
        {"issue_date", h[4].as<std::string>()},
        {"due_date", h[5].as<std::string>()},
        {"currency", h[6].as<std::string>()},
        {"subtotal", money(h[7].as<std::int64_t>())},
        {"tax", money(h[8].as<std::int64_t>())},
        {"total", money(total)},
        {"credit_applied", money(credit)},
        {"amount_paid", money(paid)},
        {"balance_due", money(balance)},
        {"paid_at", text_or(h[12], "")},
        {"period", h[13].is_null() ? "" : h[13].as<std::string>() + " – " + h[14].as<std::string>()}};

    nlohmann::json lines = nlohmann::json::array(), taxes = nlohmann::json::array();
    for (const auto& r : tx.exec_params(
             "SELECT kind, description, quantity, unit_amount, amount FROM invoice_items "
             "WHERE invoice_id = $1 ORDER BY sort_order, id",
             invoice_id)) {
        const std::string line_kind = r[0].as<std::string>();
        if (line_kind == "tax") {
            taxes.push_back({{"description", r[1].as<std::string>()},
                             {"amount", money(r[4].as<std::int64_t>())}});
        } else {
            lines.push_back({{"kind", line_kind},
                             {"description", r[1].as<std::string>()},
                             {"quantity", r[2].as<long long>()},
                             {"unit_amount", money(r[3].as<std::int64_t>())},
                             {"amount", money(r[4].as<std::int64_t>())}});
        }
    }
    nlohmann::json payments = nlohmann::json::array();
    std::int64_t last_payment = 0;
    for (const auto& r : tx.exec_params(
             "SELECT amount, to_char(coalesce(resolved_at, created_at) AT TIME ZONE 'UTC', "
             "'YYYY-MM-DD'), gateway, coalesce(gateway_reference, '') FROM payments "
             "WHERE invoice_id = $1 AND status = 'succeeded' ORDER BY id",
             invoice_id)) {
        last_payment = r[0].as<std::int64_t>();
        payments.push_back({{"amount", money(last_payment)},
                            {"date", r[1].as<std::string>()},
                            {"gateway", r[2].as<std::string>()},
                            {"reference", r[3].as<std::string>()}});
    }
    const bool receipt = kind == InvoiceDocumentKind::kReceipt;
    d.data = {{"kind", to_string(kind)},
              {"title", (receipt ? "Receipt for invoice " : "Invoice ") + d.number},
              {"client",
               {{"name", d.to_name},
                {"email", d.to},
                {"country", h[17].as<std::string>()},
                {"address", h[18].as<std::string>()},
                {"tax_id", h[19].as<std::string>()}}},
              {"invoice", invoice},
              {"lines", lines},
              {"taxes", taxes},
              {"payments", payments},
              {"payment", {{"amount", money(last_payment > 0 ? last_payment : paid)}}}};
    return d;
}

std::string InvoiceDocument::render(const InvoiceDocumentData& document, InvoiceDocumentKind kind,
                                    const std::string& templates_dir, const std::string& locale) {
    const std::string name = to_string(kind);
    for (const auto& l : template_locales(locale, "en", "documents")) {
        const auto path = std::filesystem::path(templates_dir) / (name + "." + l + ".html");
        if (auto text = read_template_file(path))
            return render_template_text(*text, document.data, TemplateEscaping::kHtml,
                                        "documents/" + name + "." + l + ".html");
    }
    throw InputError("no document template '" + name + "' for locale " + locale + " in " +
                         templates_dir,
                     ErrorCode::kNotFound);
}

}  // namespace artistsaid::plugins
