// RequestHead.hpp — the checks on an HTTP/1.1 request head that libsoup 3.2 does not make,
// or makes badly (server-private).
//
// What: RequestHeadScanner follows the bytes of one request head as they arrive, before
// libsoup reads them, and stops a head libsoup could not answer well:
//   - a request line longer than kMaxRequestLineBytes: 414; a header section larger than
//     kMaxHeaderBytes: 431 (past 64 KiB libsoup drops the connection without an answer);
//   - bytes that cannot start a request (400: binary junk otherwise waits for a blank line
//     that never comes), a NUL, a bare CR, a control character in the request line, a
//     folded header line (400, RFC 9112 5.2; libsoup deletes NULs and unfolds);
//   - the body framing (RFC 9112 6): Content-Length values that differ (libsoup reads the
//     last one: the request-smuggling vector behind a proxy) or are not a plain number
//     ("-1" is a huge length to libsoup, "3, 30" an error on which libsoup 3.2.3 leaks the
//     request path), Content-Length next to Transfer-Encoding: 400; a Transfer-Encoding
//     other than chunked: 501 (libsoup's own 501 leaks too); a declared body over
//     kMaxRequestBodyBytes: 413.
// It splits lines and reads the name of each header field; it reads the value of
// Content-Length and Transfer-Encoding only. Everything else in the head is libsoup's.
// Thread: any (plain values, no I/O). Ownership: values.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace manifold::server {

/// Longest request line (method, target, version; without CRLF): longer is 414.
inline constexpr std::size_t kMaxRequestLineBytes = 8 * 1024;
/// Largest header section (the lines after the request line, the blank line included):
/// larger is 431. Below libsoup's own 64 KiB limit, where it would drop the connection.
inline constexpr std::size_t kMaxHeaderBytes = 32 * 1024;
/// Largest request body: larger is 413. No endpoint of this server reads a body; the cap
/// keeps libsoup from buffering an unbounded one in memory.
inline constexpr std::uint64_t kMaxRequestBodyBytes = 64 * 1024;

/// A request answered with an error status and a closed connection.
struct Refusal {
    unsigned status = 400; // 400, 413, 414, 431 or 501
    std::string reason;    // one line for the client, e.g. "the request has Content-Length values that differ"
};

class RequestHeadScanner {
public:
    enum class Verdict {
        NeedMore, // the head goes on
        Complete, // the head ended within the bytes fed; the rest is body (or the next request)
        Refused,  // see refusal()
    };
    struct Result {
        Verdict verdict = Verdict::NeedMore;
        std::size_t headBytes = 0; // Complete: bytes of the fed data up to the end of the head
    };

    /// Feeds the next bytes of the connection. After Complete or Refused the verdict stays
    /// until reset().
    Result feed(std::string_view bytes);
    /// A new request head starts with the next byte.
    void reset() { *this = RequestHeadScanner(); }
    const Refusal& refusal() const { return refusal_; }

private:
    enum class Part { Start, Method, RequestLine, Headers, Done };
    enum class Field { Other, ContentLength, TransferEncoding };
    Result refuse(unsigned status, std::string reason);
    std::optional<Refusal> endOfField();
    std::optional<Refusal> endOfHead() const;

    Part part_ = Part::Start;
    std::size_t lineBytes_ = 0;    // bytes of the current line so far, without CR and LF
    std::size_t methodBytes_ = 0;
    std::size_t leadingBytes_ = 0; // empty lines before the request line (RFC 9112 2.2 allows some)
    std::size_t headerBytes_ = 0;
    bool lastWasCr_ = false;
    // The current header line.
    std::string name_;             // lower case, whitespace as ' ', up to 33 bytes (longer is no field we read)
    bool nameDone_ = false;        // ':' seen
    Field field_ = Field::Other;
    std::string value_;            // Content-Length / Transfer-Encoding only
    // What the head said so far.
    std::optional<std::uint64_t> contentLength_;
    int transferEncodings_ = 0;
    bool refused_ = false;
    Refusal refusal_;
};

/// The complete response for a refusal: status line, Content-Type, Content-Length,
/// "Connection: close", the reason as a one-line text/plain body.
std::string refusalResponse(const Refusal& refusal, std::string_view serverHeader);

} // namespace manifold::server
