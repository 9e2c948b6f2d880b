// The one visible place where payment gateways are created and registered.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include <optional>

#include "gateways/bank/bank_transfer_gateway.hpp"
#include "gateways/gateway_registry.hpp"

namespace artistsaid::gateways {

/// The gateways configuration: a YAML file (ARTISTSAID_GATEWAYS_FILE or `--gateways FILE`)
///
///   routing:  { default: stripe, currencies: { JPY: stripe }, clients: { "42": paypal } }
///   sandbox:  { enabled: true }                        # default: on
///   stripe:   { base_url: https://api.stripe.com, api_key_secret: STRIPE_API_KEY,
///               timeout: 30s }
///   paypal:   { base_url: https://api-m.paypal.com, client_id_secret: PAYPAL_CLIENT_ID,
///               client_secret_secret: PAYPAL_CLIENT_SECRET, timeout: 30s }
///   bank_transfer: { output_dir: /var/lib/artistsaid/bank, debtor_name: ArtistsAid GmbH,
///               debtor_iban: DE89370400440532013000, debtor_bic: COBADEFFXXX,
///               initiating_party: ArtistsAid }        # registered as "bank_transfer"
///
/// read into JSON (every scalar a string). Credentials are never in this file: `*_secret`
/// keys name secrets (ARTISTSAID_SECRET_<NAME> or $CREDENTIALS_DIRECTORY/<NAME>).
/// Throws InputError with file:line:column for a malformed file.
nlohmann::json load_gateway_settings(const std::string& path);

/// The `bank_transfer` section as settings; nullopt when there is none. InputError for an
/// unknown key (the values are checked by BankTransferGateway's constructor).
std::optional<BankTransferSettings> bank_transfer_settings(const nlohmann::json& settings,
                                                          const std::string& database_url);

/// Creates every configured gateway and the routing, and adds them to `registry`:
/// the sandbox (unless disabled; it needs `database_url`), then stripe, paypal and
/// bank_transfer when their sections are present. `secrets` maps secret names to values (RuntimeOptions::secrets).
/// Throws InputError for an unknown section or key, or a secret that is named but missing
/// (naming the secret, never showing a value).
void register_gateways(GatewayRegistry& registry, const nlohmann::json& settings,
                       const nlohmann::json& secrets, const std::string& database_url);

}  // namespace artistsaid::gateways
