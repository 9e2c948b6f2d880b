#include "engine/http/paypal_certificate_verifier.hpp"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>
#include <spdlog/spdlog.h>

#include "engine/core/error.hpp"
#include "engine/http/paypal_delivery.hpp"
#include "engine/http/signing.hpp"

namespace artistsaid::http {

struct PayPalCertificateVerifier::Key {
    std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> pkey{nullptr, &EVP_PKEY_free};
};

namespace {

constexpr std::size_t kMaxCached = 32;
constexpr auto kCacheFor = std::chrono::hours(1);
constexpr std::size_t kMaxCertificateBytes = 64 * 1024;

struct X509Free {
    void operator()(X509* x) const { X509_free(x); }
};
using X509Ptr = std::unique_ptr<X509, X509Free>;

WebhookRejected bad_certificate(const std::string& why) {
    return WebhookRejected(401, "bad_certificate", "PAYPAL-CERT-URL: " + why);
}

// Every certificate in a PEM text, the leaf first.
std::vector<X509Ptr> read_pem_chain(const std::string& pem) {
    std::unique_ptr<BIO, decltype(&BIO_free)> bio(
        BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), &BIO_free);
    if (!bio) throw std::bad_alloc();
    std::vector<X509Ptr> chain;
    while (X509* x = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) chain.emplace_back(x);
    return chain;
}

// The leaf chains to a trusted CA (with the other certificates as intermediates), is valid
// now, and is issued to `host`.
void check_chain(const std::vector<X509Ptr>& chain, const std::string& ca_file,
                 const std::string& host) {
    std::unique_ptr<X509_STORE, decltype(&X509_STORE_free)> store(X509_STORE_new(),
                                                                  &X509_STORE_free);
    if (!store) throw std::bad_alloc();
    const int loaded = ca_file.empty()
                           ? X509_STORE_set_default_paths(store.get())
                           : X509_STORE_load_locations(store.get(), ca_file.c_str(), nullptr);
    if (loaded != 1)
        throw WebhookRejected(503, "provider_unavailable",
                              "the trust store for PayPal's certificates cannot be loaded");
    std::unique_ptr<STACK_OF(X509), void (*)(STACK_OF(X509)*)> intermediates(
        sk_X509_new_null(), [](STACK_OF(X509)* s) { sk_X509_free(s); });
    for (std::size_t i = 1; i < chain.size(); ++i) sk_X509_push(intermediates.get(), chain[i].get());
    std::unique_ptr<X509_STORE_CTX, decltype(&X509_STORE_CTX_free)> ctx(X509_STORE_CTX_new(),
                                                                        &X509_STORE_CTX_free);
    if (!ctx || X509_STORE_CTX_init(ctx.get(), store.get(), chain[0].get(), intermediates.get()) != 1)
        throw std::bad_alloc();
    if (X509_verify_cert(ctx.get()) != 1)
        throw bad_certificate(std::string("not trusted (") +
                              X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx.get())) +
                              ")");
    if (X509_check_host(chain[0].get(), host.data(), host.size(), 0, nullptr) != 1)
        throw bad_certificate("not issued to " + host);
}

}  // namespace

PayPalCertificateVerifier::PayPalCertificateVerifier(PayPalCertificateSettings settings,
                                                     std::chrono::seconds tolerance)
    : settings_(std::move(settings)), tolerance_(tolerance), client_(HttpClient::shared()) {}

PayPalCertificateVerifier::~PayPalCertificateVerifier() = default;

std::shared_ptr<const PayPalCertificateVerifier::Key> PayPalCertificateVerifier::signing_key(
    const std::string& cert_url) const {
    bool trusted_url = false;
    for (const auto& prefix : settings_.trusted_url_prefixes)
        trusted_url = trusted_url || cert_url.rfind(prefix, 0) == 0;
    if (!trusted_url || cert_url.find_first_of("@#\\") != std::string::npos ||
        cert_url.find("/../") != std::string::npos)
        throw WebhookRejected(401, "untrusted_cert_url",
                              "PAYPAL-CERT-URL is not under a trusted PayPal address");
    {
        std::lock_guard lock(cache_mutex_);
        auto it = cache_.find(cert_url);
        if (it != cache_.end() && std::chrono::steady_clock::now() < it->second.second)
            return it->second.first;
    }
    HttpRequest request;
    request.url = cert_url;
    request.timeout = settings_.fetch_timeout;
    request.connect_timeout = std::min(request.connect_timeout, settings_.fetch_timeout);
    request.max_response_bytes = kMaxCertificateBytes;
    request.ca_file = settings_.ca_file;
    HttpResponse response;
    try {
        response = client_.send(request);
    } catch (const Error& e) {  // unreachable, too slow, too large: PayPal delivers again
        throw WebhookRejected(503, "provider_unavailable",
                              std::string("PayPal's signing certificate: ") + e.what());
    }
    if (response.status != 200)
        throw WebhookRejected(503, "provider_unavailable",
                              "PayPal's signing certificate: HTTP " + std::to_string(response.status));
    auto chain = read_pem_chain(response.body);
    if (chain.empty()) throw bad_certificate("no PEM certificate at that address");
    check_chain(chain, settings_.ca_file, settings_.subject_host);
    auto key = std::make_shared<Key>();
    key->pkey.reset(X509_get_pubkey(chain[0].get()));
    if (!key->pkey) throw bad_certificate("the certificate has no usable public key");
    std::lock_guard lock(cache_mutex_);
    if (cache_.size() >= kMaxCached) cache_.clear();
    cache_[cert_url] = {key, std::chrono::steady_clock::now() + kCacheFor};
    return key;
}

WebhookEvent PayPalCertificateVerifier::verify(const Request& request, const std::string&) const {
    PayPalDelivery d = read_paypal_delivery(request, tolerance_);
    if (d.auth_algo != "SHA256withRSA")
        throw WebhookRejected(401, "unsupported_algorithm",
                              "PAYPAL-AUTH-ALGO " + d.auth_algo + " is not SHA256withRSA");
    auto signature = base64_decode(d.transmission_sig);
    if (!signature)
        throw WebhookRejected(400, "malformed_signature", "PAYPAL-TRANSMISSION-SIG is not base64");
    auto key = signing_key(d.cert_url);
    const std::string signed_text = d.transmission_id + "|" + d.transmission_time + "|" +
                                    settings_.webhook_id + "|" +
                                    std::to_string(crc32(request.body()));
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
    if (!ctx ||
        EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key->pkey.get()) != 1)
        throw std::bad_alloc();
    const int ok = EVP_DigestVerify(
        ctx.get(), reinterpret_cast<const unsigned char*>(signature->data()), signature->size(),
        reinterpret_cast<const unsigned char*>(signed_text.data()), signed_text.size());
    if (ok != 1)
        throw WebhookRejected(401, "bad_signature",
                              "PAYPAL-TRANSMISSION-SIG does not verify for this body and webhook id");
    return paypal_event(std::move(d.body));
}

}  // namespace artistsaid::http
