#include "cli/commands/billing_cli_support.hpp"

#include <ostream>

#include "engine/core/error.hpp"
#include "engine/store/database.hpp"

namespace artistsaid::cli {

std::unique_ptr<pqxx::connection> open_billing_database(const Config& config) {
    const std::string& url = config.database_url();
    if (url.empty()) throw InputError("no database configured: set ARTISTSAID_DATABASE_URL");
    return store::connect(
        url, std::chrono::duration_cast<std::chrono::seconds>(config.duration("connect_timeout")),
        config.duration("statement_timeout"));
}

void print_billing_result(Context& ctx, const nlohmann::json& result) {
    if (ctx.json) {
        ctx.out << result.dump() << '\n';
        return;
    }
    for (const auto& [key, value] : result.items()) ctx.out << key << ": " << value.dump() << '\n';
}

}  // namespace artistsaid::cli
