#include "plugins/documents/render_invoice_step.hpp"

#include <cctype>
#include <cstdint>
#include <pqxx/pqxx>
#include <optional>

#include "engine/core/digest.hpp"
#include "engine/core/error.hpp"
#include "engine/store/database.hpp"
#include "plugins/common/step_inputs.hpp"
#include "plugins/documents/invoice_document.hpp"
#include "plugins/storage/storage_step.hpp"

namespace artistsaid::plugins {
namespace {

using workflow::FieldDescriptor;
using workflow::ValueType;

// A storage key segment from an invoice number: letters, digits, '-' and '_' kept.
std::string key_segment(const std::string& number) {
    std::string out;
    for (unsigned char c : number) out += (std::isalnum(c) || c == '-' || c == '_') ? static_cast<char>(c) : '_';
    return out;
}

// A documents row already recorded for an invoice.
struct RecordedDocument {
    long long id = 0;
    std::string storage_key;
    std::string sha256;
    long long size = 0;
};

std::optional<RecordedDocument> find_recorded(pqxx::transaction_base& tx, long long invoice_id,
                                              const std::string& kind_column) {
    auto rows = tx.exec_params(
        "SELECT id, storage_key, encode(sha256, 'hex'), size_bytes FROM documents "
        "WHERE owner_kind = 'invoice' AND owner_id = $1 AND kind = $2",
        invoice_id, kind_column);
    if (rows.empty()) return std::nullopt;
    return RecordedDocument{rows[0][0].as<long long>(), rows[0][1].as<std::string>(),
                            rows[0][2].as<std::string>(), rows[0][3].as<long long>()};
}

}  // namespace

RenderInvoiceStep::RenderInvoiceStep(ConnectionFactory connect, PluginEnvironment environment)
    : connect_(std::move(connect)), env_(std::move(environment)) {}

const workflow::StepTypeDescriptor& RenderInvoiceStep::descriptor() const {
    static const workflow::StepTypeDescriptor d{
        "documents.render_invoice",
        "renders an invoice's HTML invoice or receipt from templates/documents, stores it "
        "(storage backend) and records it once",
        {FieldDescriptor{"invoice_id", ValueType::kInteger, true, "the invoice", {}},
         FieldDescriptor{"kind", ValueType::kString, true, "invoice (while unpaid) or receipt",
                         {"invoice", "receipt"}},
         FieldDescriptor{"locale", ValueType::kString, false,
                         "default: the client's user locale, else en", {}}},
        {FieldDescriptor{"document_id", ValueType::kInteger, false, "the documents row", {}},
         FieldDescriptor{"storage_key", ValueType::kString, false, "where it is stored", {}},
         FieldDescriptor{"sha256", ValueType::kString, false, "hex of the stored bytes", {}},
         FieldDescriptor{"size", ValueType::kInteger, false, "bytes", {}},
         FieldDescriptor{"kind", ValueType::kString, false, "invoice | receipt", {}},
         FieldDescriptor{"stored", ValueType::kBoolean, false,
                         "false when an earlier execution had stored it", {}},
         FieldDescriptor{"to", ValueType::kString, false, "the client's billing email", {}},
         FieldDescriptor{"to_name", ValueType::kString, false, "the client's billing name", {}},
         FieldDescriptor{"locale", ValueType::kString, false, "the client's locale", {}},
         FieldDescriptor{"data", ValueType::kObject, false,
                         "{client, invoice, payment, document}: an email template's variables", {}}}};
    return d;
}

runtime::StepResult RenderInvoiceStep::run(const runtime::StepCall& call) {
    StepInputs in("documents.render_invoice", call.with);
    const long long invoice_id = in.integer_or("invoice_id", 0, 1, INT64_MAX);
    const auto kind = parse_invoice_document_kind(in.string("kind"));
    const std::string kind_column = to_string(kind) + "_html";
    auto conn = connect_();
    try {
        std::optional<InvoiceDocumentData> doc;
        std::optional<RecordedDocument> recorded;
        {
            pqxx::read_transaction tx(*conn);
            doc = InvoiceDocument::load(tx, invoice_id, kind);
            if (!doc) throw InputError("documents.render_invoice: there is no invoice " + std::to_string(invoice_id));
            recorded = find_recorded(tx, invoice_id, kind_column);
        }
        if (kind == InvoiceDocumentKind::kReceipt && doc->status != "paid" && !recorded)
            throw InputError("documents.render_invoice: invoice " + doc->number + " is " + doc->status +
                             ", not paid: it has no receipt yet");
        const std::string locale = in.string_or("locale", doc->locale.empty() ? "en" : doc->locale);
        bool stored = false;
        if (!recorded) {
            const std::string html = InvoiceDocument::render(
                *doc, kind,
                env_.get_or("ARTISTSAID_DOCUMENT_TEMPLATES_DIR",
                            std::string(ARTISTSAID_DATA_DIR) + "/templates/documents"),
                locale);
            const std::string key = "invoices/" + std::to_string(doc->client_id) + "/" +
                                    key_segment(doc->number) + "-" + to_string(kind) + ".html";
            auto backend = make_storage_backend(env_);
            // The same key gets the same bytes on a retry; the row below decides once.
            auto object = backend->put(key, html, "text/html; charset=utf-8", call.deadline);
            pqxx::work tx(*conn);
            auto rows = tx.exec_params(
                "INSERT INTO documents (owner_kind, owner_id, client_id, kind, storage_key, filename, "
                "content_type, size_bytes, sha256) VALUES ('invoice', $1, $2, $3, $4, $5, "
                "'text/html; charset=utf-8', $6, decode($7, 'hex')) "
                "ON CONFLICT (owner_id, kind) WHERE owner_kind = 'invoice' AND kind IN "
                "('invoice_html', 'receipt_html') DO NOTHING RETURNING id",
                invoice_id, doc->client_id, kind_column, key, key_segment(doc->number) + ".html",
                static_cast<long long>(object.size), object.sha256);
            if (rows.empty()) {  // a concurrent execution recorded it first
                recorded = find_recorded(tx, invoice_id, kind_column);
                if (!recorded)
                    throw WorkError("documents.render_invoice: the " + kind_column + " row of invoice " +
                                    doc->number + " conflicted but cannot be read back");
            } else {
                recorded = RecordedDocument{rows[0][0].as<long long>(), key, object.sha256,
                                            static_cast<long long>(object.size)};
                stored = true;
            }
            tx.commit();
        }
        const auto& [id, key, sha, size] = *recorded;
        nlohmann::json data = {{"client", doc->data["client"]},
                               {"invoice", doc->data["invoice"]},
                               {"payment", doc->data["payment"]},
                               {"document", {{"key", key}, {"sha256", sha}}}};
        return runtime::StepResult::success({{"document_id", id},
                                             {"storage_key", key},
                                             {"sha256", sha},
                                             {"size", size},
                                             {"kind", to_string(kind)},
                                             {"stored", stored},
                                             {"to", doc->to},
                                             {"to_name", doc->to_name},
                                             {"locale", locale},
                                             {"data", data}});
    } catch (const Error&) {
        throw;
    } catch (const std::exception&) {
        store::throw_from_pqxx("rendering an invoice document");
    }
}

}  // namespace artistsaid::plugins
