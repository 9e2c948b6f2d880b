// PayPal, verified offline: PayPal signs "<transmission id>|<transmission time>|<webhook
// id>|<CRC-32 of the raw body, decimal>" with SHA256withRSA; PAYPAL-CERT-URL names the
// signing certificate. The URL must start with one of the trusted prefixes (PayPal's API
// hosts over https by default), the certificate must chain to a trusted CA (the system's,
// or `ca_file`) and be issued to messageverificationcerts.paypal.com, and then the
// signature must verify with its key. Certificates are fetched through the shared HTTP
// client and kept (at most 32, for an hour) so a delivery costs no call to PayPal.
// Thread-safety: verify() runs on many threads; the cache is under a mutex.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "engine/http/http_client.hpp"
#include "engine/http/webhook_verifier.hpp"

namespace artistsaid::http {

struct PayPalCertificateSettings {
    std::string webhook_id;
    std::vector<std::string> trusted_url_prefixes = {
        "https://api.paypal.com/", "https://api-m.paypal.com/",
        "https://api.sandbox.paypal.com/", "https://api-m.sandbox.paypal.com/"};
    std::string ca_file;  // empty: the system's trust store
    std::string subject_host = "messageverificationcerts.paypal.com";
    std::chrono::milliseconds fetch_timeout{std::chrono::seconds(10)};
};

class PayPalCertificateVerifier : public WebhookVerifier {
public:
    PayPalCertificateVerifier(PayPalCertificateSettings settings, std::chrono::seconds tolerance);
    ~PayPalCertificateVerifier() override;
    std::string_view provider() const override { return "paypal"; }
    WebhookEvent verify(const Request& request, const std::string& url) const override;

    /// The public key of a verified certificate (an EVP_PKEY, shared by cached entries).
    struct Key;

private:
    std::shared_ptr<const Key> signing_key(const std::string& cert_url) const;

    PayPalCertificateSettings settings_;
    std::chrono::seconds tolerance_;
    const HttpClient& client_;
    mutable std::mutex cache_mutex_;
    mutable std::map<std::string, std::pair<std::shared_ptr<const Key>,
                                            std::chrono::steady_clock::time_point>>
        cache_;
};

}  // namespace artistsaid::http
