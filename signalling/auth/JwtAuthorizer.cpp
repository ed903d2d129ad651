#include "signalling/auth/JwtAuthorizer.hpp"

#include "core/Log.hpp"

#include <glib.h>
#include <jwt.h>

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string_view>

#include "signalling/auth/GrantCheck.hpp"

// How a token is classified with libjwt 1.10.
//
// jwt_decode() answers EINVAL for nearly every failure (not three parts, bad base64,
// header or payload not JSON, unknown alg, typ other than "JWT", wrong signature), and
// with a key it happily verifies HS384/HS512 tokens too. Without a key it verifies
// nothing at all (and then reports alg "none" whatever the header says). So the token
// is checked in steps, each with its own ErrorCode, and jwt_decode() with the key is
// left with one thing only that can fail:
//   1. shape: exactly three dot-separated base64url segments, header and payload
//      non-empty, within 8 KiB                                  -> TokenMalformed
//   2. header: base64url-decoded with GLib, parsed as a JSON object by libjwt itself
//      (jwt_add_headers_json into an empty jwt_t; no JSON code here)  -> TokenMalformed
//   3. alg from that header must be "HS256"                     -> TokenAlgorithm
//      typ, when a string, must be "JWT" (libjwt refuses others) -> TokenMalformed
//   4. payload: decoded and parsed the same way (jwt_add_grants_json) -> TokenMalformed
//   5. jwt_decode(token, secret): shape, header and payload are known good and alg is
//      HS256, so a failure here means the HMAC did not match  -> TokenBadSignature
//      (ENOMEM excepted). Debian's 1.10.2-1+deb12u1 compares it in constant time
//      (CVE-2024-25189).
//   6. claims, read from the verified jwt_t only: sub, room, exp, nbf, grants
//                           -> TokenMalformed / TokenExpired / TokenNotYetValid
// Values are read as JSON text (jwt_get_grants_json) rather than with
// jwt_get_grant_int/_bool, which answer 0 without an error for values of the wrong
// type ("exp": "soon", "admin": 1) and so cannot tell a bad claim from a false one.

namespace manifold::auth {

namespace {

using protocol::ErrorCode;

constexpr std::size_t kMaxTokenBytes = 8192;  // as join.token on the wire
constexpr std::size_t kMaxSubjectBytes = 256;
constexpr std::size_t kRecommendedSecretBytes = 32;
constexpr std::int64_t kMaxNumericDate = 253402300799; // 9999-12-31T23:59:59Z

struct JwtFree {
    void operator()(jwt_t* jwt) const noexcept { jwt_free(jwt); }
};
using JwtPtr = std::unique_ptr<jwt_t, JwtFree>;

struct MallocFree {
    void operator()(char* text) const noexcept { std::free(text); }
};

AuthDecision malformed(std::string what) {
    return AuthDecision::deny(ErrorCode::TokenMalformed, std::move(what) + "; ask for a fresh token");
}

bool isBase64Url(std::string_view segment) {
    if (segment.size() % 4 == 1) return false; // no base64 text has that length
    for (char c : segment) {
        if (!g_ascii_isalnum(c) && c != '-' && c != '_') return false;
    }
    return true;
}

/// base64url (RFC 4648 §5, unpadded) to bytes, via GLib's standard-alphabet decoder.
/// Refuses text with NUL bytes: libjwt reads it as a C string.
std::optional<std::string> decodeSegment(std::string_view segment) {
    std::string standard(segment);
    for (char& c : standard) {
        if (c == '-') c = '+';
        else if (c == '_') c = '/';
    }
    standard.append((4 - standard.size() % 4) % 4, '=');
    gsize length = 0;
    g_autofree guchar* raw = g_base64_decode(standard.c_str(), &length);
    std::string bytes(reinterpret_cast<const char*>(raw), length);
    if (bytes.find('\0') != std::string::npos) return std::nullopt;
    return bytes;
}

/// A JSON object parsed by libjwt into the headers (or the grants) of an empty jwt_t;
/// empty when the text is not a JSON object.
JwtPtr parseObject(const std::string& json, bool asHeaders) {
    jwt_t* raw = nullptr;
    if (jwt_new(&raw) != 0) return {};
    JwtPtr parsed(raw);
    const int rc = asHeaders ? jwt_add_headers_json(raw, json.c_str())
                             : jwt_add_grants_json(raw, json.c_str());
    if (rc != 0) return {};
    return parsed;
}

/// The value of a top-level member as JSON text ("true", "123", "\"x\"", "{...}").
std::optional<std::string> memberJson(jwt_t* jwt, const char* name) {
    std::unique_ptr<char, MallocFree> text(jwt_get_grants_json(jwt, name));
    if (!text) return std::nullopt;
    return std::string(text.get());
}

/// A NumericDate (RFC 7519: seconds since the epoch, fractions allowed), floored, between
/// year 0 and year 9999 so that arithmetic on it cannot overflow.
std::optional<std::int64_t> numericDate(const std::string& json) {
    if (json.empty() || (json[0] != '-' && !g_ascii_isdigit(json[0]))) return std::nullopt;
    gint64 whole = 0;
    if (g_ascii_string_to_signed(json.c_str(), 10, -kMaxNumericDate, kMaxNumericDate, &whole, nullptr))
        return whole;
    char* end = nullptr;
    const double value = g_ascii_strtod(json.c_str(), &end);
    if (end == json.c_str() || *end != '\0' || !std::isfinite(value) ||
        std::fabs(value) > static_cast<double>(kMaxNumericDate))
        return std::nullopt;
    return static_cast<std::int64_t>(std::floor(value));
}

std::string isoUtc(std::int64_t unixSeconds) {
    g_autoptr(GDateTime) time = g_date_time_new_from_unix_utc(unixSeconds);
    if (!time) return std::to_string(unixSeconds) + " (Unix time)";
    g_autofree gchar* text = g_date_time_format(time, "%Y-%m-%dT%H:%M:%SZ");
    return text ? text : std::to_string(unixSeconds);
}

/// Reads the "grants" claim into `grants`; returns the problem, if any.
std::optional<std::string> readGrants(jwt_t* jwt, protocol::Grants& grants) {
    const auto json = memberJson(jwt, "grants");
    if (!json) {
        grants = protocol::Grants{true, true, true, false, false};
        return std::nullopt;
    }
    JwtPtr object = json->starts_with('{') ? parseObject(*json, false) : JwtPtr{};
    if (!object) return std::string("the \"grants\" claim is not a JSON object");
    grants = protocol::Grants{};
    const std::pair<const char*, bool*> fields[] = {
        {"join", &grants.join},       {"publish", &grants.publish}, {"subscribe", &grants.subscribe},
        {"record", &grants.record},   {"admin", &grants.admin},
    };
    for (const auto& [name, flag] : fields) {
        const auto value = memberJson(object.get(), name);
        if (!value) continue; // absent = not granted
        if (*value == "true") *flag = true;
        else if (*value != "false") return std::string("grants.") + name + " is not true or false";
    }
    return std::nullopt;
}

} // namespace

struct JwtAuthorizer::Claims {
    std::string subject;
    std::string room;
    protocol::Grants grants;
};

JwtAuthorizer::JwtAuthorizer(Config config) : config_(std::move(config)) {
    if (config_.secret.empty()) throw std::invalid_argument("jwt: the secret must not be empty");
    if (config_.secret.size() > static_cast<std::size_t>(G_MAXINT))
        throw std::invalid_argument("jwt: the secret is too long");
    if (config_.leeway.count() < 0) throw std::invalid_argument("jwt: the leeway must not be negative");
    if (config_.secret.size() < kRecommendedSecretBytes)
        MLOG(Auth, Warning, "jwt: the secret has %zu bytes; use at least %zu random bytes for HS256",
                  config_.secret.size(), kRecommendedSecretBytes);
}

void JwtAuthorizer::authorize(const AuthContext& context, Done done) {
    AuthDecision decision = decide(context);
    if (!decision.allowed)
        MLOG(Auth, Debug, "jwt: %s in room '%s' denied: %s", protocol::toString(context.action),
                context.room.c_str(), decision.message.c_str());
    done(std::move(decision));
}

std::int64_t JwtAuthorizer::nowSeconds() const {
    const auto now = config_.clock ? config_.clock() : std::chrono::system_clock::now();
    return std::chrono::floor<std::chrono::seconds>(now.time_since_epoch()).count();
}

AuthDecision JwtAuthorizer::decide(const AuthContext& context) const {
    switch (context.action) {
    case AuthAction::Publish:
    case AuthAction::Subscribe:
    case AuthAction::Record:
        if (auto denied = denyWithoutGrant(context)) return std::move(*denied);
        return AuthDecision::allow(context.identity, context.grants);
    case AuthAction::Join:
    case AuthAction::Admin:
        break;
    }

    Claims claims;
    if (auto denied = verify(context.token, claims)) return std::move(*denied);

    const bool join = context.action == AuthAction::Join;
    if (claims.room != "*" && claims.room != context.room) {
        std::string message =
            context.room.empty()
                ? "the token is for room '" + claims.room +
                      "' only; this action spans rooms and needs a token for room \"*\""
                : "the token is for room '" + claims.room + "', not '" + context.room +
                      "'; ask for a token for room '" + context.room + "'";
        return AuthDecision::deny(ErrorCode::TokenWrongRoom, std::move(message));
    }
    if (join ? !claims.grants.join : !claims.grants.admin) {
        const char* grant = join ? "join" : "admin";
        return AuthDecision::deny(ErrorCode::PermissionDenied,
                                  "the token for '" + claims.subject + "' does not grant " + grant +
                                      "; ask for a token with grants." + grant + "=true");
    }
    return AuthDecision::allow(std::move(claims.subject), claims.grants);
}

std::optional<AuthDecision> JwtAuthorizer::verify(const std::string& token, Claims& claims) const {
    if (token.empty())
        return AuthDecision::deny(ErrorCode::TokenMissing,
                                  "this server needs a token: pass an HS256 JWT from your "
                                  "application server as the token");
    if (token.size() > kMaxTokenBytes)
        return malformed("the token is longer than " + std::to_string(kMaxTokenBytes) + " bytes");

    // 1. Shape: header.payload.signature, base64url each.
    const std::string_view text(token);
    const auto firstDot = text.find('.');
    const auto secondDot = firstDot == std::string_view::npos ? firstDot : text.find('.', firstDot + 1);
    if (secondDot == std::string_view::npos || text.find('.', secondDot + 1) != std::string_view::npos)
        return malformed("the token is not a JWT (header.payload.signature)");
    const auto headerText = text.substr(0, firstDot);
    const auto payloadText = text.substr(firstDot + 1, secondDot - firstDot - 1);
    const auto signatureText = text.substr(secondDot + 1);
    if (headerText.empty() || payloadText.empty() || !isBase64Url(headerText) ||
        !isBase64Url(payloadText) || !isBase64Url(signatureText))
        return malformed("the token is not a JWT (three base64url parts separated by dots)");

    // 2, 3. Header: a JSON object whose alg is HS256.
    const auto headerJson = decodeSegment(headerText);
    JwtPtr header = headerJson ? parseObject(*headerJson, true) : JwtPtr{};
    if (!header) return malformed("the token header is not a JSON object");
    const char* alg = jwt_get_header(header.get(), "alg");
    if (!alg) return malformed("the token header has no \"alg\"");
    if (std::string_view(alg) != "HS256")
        return AuthDecision::deny(ErrorCode::TokenAlgorithm,
                                  std::string("the token is signed with alg \"") + alg +
                                      "\"; this server accepts only HS256: ask for an HS256 token");
    const char* typ = jwt_get_header(header.get(), "typ");
    if (typ && g_ascii_strcasecmp(typ, "JWT") != 0)
        return malformed(std::string("the token header says typ \"") + typ + "\", not \"JWT\"");

    // 4. Payload: a JSON object.
    const auto payloadJson = decodeSegment(payloadText);
    if (!payloadJson || !parseObject(*payloadJson, false))
        return malformed("the token payload is not a JSON object");

    // 5. Signature: the only thing left that jwt_decode can refuse.
    jwt_t* raw = nullptr;
    const int rc = jwt_decode(&raw, token.c_str(),
                              reinterpret_cast<const unsigned char*>(config_.secret.data()),
                              static_cast<int>(config_.secret.size()));
    JwtPtr jwt(raw);
    if (rc == ENOMEM)
        return AuthDecision::deny(ErrorCode::InternalError, "out of memory while checking the token");
    if (rc != 0 || !jwt)
        return AuthDecision::deny(ErrorCode::TokenBadSignature,
                                  "the token's signature does not verify: it was not issued with "
                                  "this server's secret; ask for a token issued for this server");

    // 6. Claims, from the verified token only.
    const char* subject = jwt_get_grant(jwt.get(), "sub");
    if (!subject || !*subject)
        return malformed("the token has no \"sub\" (a non-empty string naming the user)");
    claims.subject = subject;
    if (claims.subject.size() > kMaxSubjectBytes || !g_utf8_validate(subject, -1, nullptr))
        return malformed("the token's \"sub\" is not UTF-8 text of at most " +
                         std::to_string(kMaxSubjectBytes) + " bytes");
    const char* room = jwt_get_grant(jwt.get(), "room");
    if (!room || !*room)
        return malformed("the token has no \"room\" (a room name, or \"*\" for every room)");
    claims.room = room;

    const auto expJson = memberJson(jwt.get(), "exp");
    if (!expJson) return malformed("the token has no \"exp\": tokens must expire");
    const auto expires = numericDate(*expJson);
    if (!expires) return malformed("the token's \"exp\" is not a number of seconds");
    std::optional<std::int64_t> notBefore;
    if (const auto nbfJson = memberJson(jwt.get(), "nbf")) {
        notBefore = numericDate(*nbfJson);
        if (!notBefore) return malformed("the token's \"nbf\" is not a number of seconds");
    }
    if (auto problem = readGrants(jwt.get(), claims.grants)) return malformed(std::move(*problem));

    const std::int64_t now = nowSeconds();
    const std::int64_t leeway = config_.leeway.count();
    if (now - *expires >= leeway)
        return AuthDecision::deny(ErrorCode::TokenExpired,
                                  "the token expired at " + isoUtc(*expires) + "; ask for a fresh token");
    if (notBefore && *notBefore - now > leeway)
        return AuthDecision::deny(ErrorCode::TokenNotYetValid,
                                  "the token is not valid before " + isoUtc(*notBefore) +
                                      " (server time " + isoUtc(now) +
                                      "); retry then, or check the clocks");
    return std::nullopt;
}

} // namespace manifold::auth
