// RequestHead.cpp — see RequestHead.hpp.
#include "signalling/server/RequestHead.hpp"

#include <cstring>

namespace manifold::server {
namespace {

constexpr std::size_t kMaxMethodBytes = 32;
constexpr std::size_t kMaxLeadingBytes = 16;
constexpr std::size_t kMaxNameBytes = 32; // longer field names are none we read

// RFC 9110 5.6.2: the characters of a token (a method is one).
bool isTokenChar(unsigned char c) {
    if ((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'))
        return true;
    return c != 0 && std::strchr("!#$%&'*+-.^_`|~", c) != nullptr;
}

char lower(char c) { return c >= 'A' && c <= 'Z' ? char(c - 'A' + 'a') : c; }

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
        s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
        s.remove_suffix(1);
    return s;
}

bool equalsIgnoringCase(std::string_view a, std::string_view b) {
    if (a.size() != b.size())
        return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (lower(a[i]) != lower(b[i]))
            return false;
    return true;
}

const char* reasonPhrase(unsigned status) {
    switch (status) {
    case 400: return "Bad Request";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 431: return "Request Header Fields Too Large";
    case 501: return "Not Implemented";
    default: return "Error";
    }
}

} // namespace

RequestHeadScanner::Result RequestHeadScanner::refuse(unsigned status, std::string reason) {
    part_ = Part::Done;
    refused_ = true;
    refusal_ = Refusal{status, std::move(reason)};
    return Result{Verdict::Refused, 0};
}

// The header line just ended: judge it if it was Content-Length or Transfer-Encoding.
std::optional<Refusal> RequestHeadScanner::endOfField() {
    const Field field = field_;
    const std::string_view value = trim(value_);
    if (field == Field::ContentLength) {
        // One plain decimal number: a list ("3, 3") is valid HTTP but libsoup cannot read it.
        if (value.empty() || value.size() > 19 || value.find_first_not_of("0123456789") != std::string_view::npos)
            return Refusal{400, "Content-Length must be one non-negative decimal number"};
        std::uint64_t n = 0;
        for (char d : value)
            n = n * 10 + std::uint64_t(d - '0');
        if (contentLength_ && *contentLength_ != n)
            return Refusal{400, "the request has Content-Length values that differ"};
        contentLength_ = n;
    } else if (field == Field::TransferEncoding) {
        if (++transferEncodings_ > 1 || !equalsIgnoringCase(value, "chunked"))
            return Refusal{501, "the only transfer coding accepted is a single \"chunked\""};
    }
    return std::nullopt;
}

std::optional<Refusal> RequestHeadScanner::endOfHead() const {
    if (contentLength_ && transferEncodings_ > 0)
        return Refusal{400, "the request has both Transfer-Encoding and Content-Length"};
    if (contentLength_ && *contentLength_ > kMaxRequestBodyBytes)
        return Refusal{413, "the request body is larger than " + std::to_string(kMaxRequestBodyBytes) + " bytes"};
    return std::nullopt;
}

RequestHeadScanner::Result RequestHeadScanner::feed(std::string_view bytes) {
    if (part_ == Part::Done)
        return Result{refused_ ? Verdict::Refused : Verdict::Complete, 0};
    for (std::size_t i = 0; i < bytes.size(); ++i) {
        const auto c = static_cast<unsigned char>(bytes[i]);
        if (c == 0)
            return refuse(400, "a NUL byte in the request head");
        // A CR is accepted only right before its LF (RFC 9112 2.2).
        if (lastWasCr_ && c != '\n')
            return refuse(400, "a bare CR in the request head");
        lastWasCr_ = c == '\r';
        switch (part_) {
        case Part::Start:
            if (c == '\r' || c == '\n') {
                if (++leadingBytes_ > kMaxLeadingBytes)
                    return refuse(400, "too many empty lines before the request line");
                break;
            }
            part_ = Part::Method;
            [[fallthrough]];
        case Part::Method:
            ++lineBytes_;
            if (c == ' ' && methodBytes_ > 0) {
                part_ = Part::RequestLine;
                break;
            }
            if (!isTokenChar(c))
                return refuse(400, "this is not an HTTP request (the method must be a token followed by a space)");
            if (++methodBytes_ > kMaxMethodBytes)
                return refuse(400, "the method is longer than " + std::to_string(kMaxMethodBytes) + " bytes");
            break;
        case Part::RequestLine:
            if (c == '\n') {
                part_ = Part::Headers;
                lineBytes_ = 0;
                break;
            }
            if (c == '\r')
                break;
            if (c < 0x20 || c == 0x7F)
                return refuse(400, "a control character in the request line");
            if (++lineBytes_ > kMaxRequestLineBytes)
                return refuse(414, "the request line is longer than " + std::to_string(kMaxRequestLineBytes) +
                                       " bytes; use a shorter URL");
            break;
        case Part::Headers:
            if (++headerBytes_ > kMaxHeaderBytes)
                return refuse(431, "the header fields are larger than " + std::to_string(kMaxHeaderBytes) + " bytes");
            if (c == '\n') {
                if (lineBytes_ == 0) { // the blank line
                    part_ = Part::Done;
                    if (std::optional<Refusal> refusal = endOfHead())
                        return refuse(refusal->status, std::move(refusal->reason));
                    return Result{Verdict::Complete, i + 1};
                }
                if (std::optional<Refusal> refusal = endOfField())
                    return refuse(refusal->status, std::move(refusal->reason));
                lineBytes_ = 0;
                name_.clear();
                nameDone_ = false;
                field_ = Field::Other;
                value_.clear();
                break;
            }
            if (c == '\r')
                break;
            if (lineBytes_++ == 0 && (c == ' ' || c == '\t'))
                return refuse(400, "a folded header line (obsolete line folding is not accepted)");
            if (nameDone_) {
                if (field_ != Field::Other)
                    value_ += char(c);
            } else if (c == ':') {
                nameDone_ = true;
                std::string_view name = name_;
                while (!name.empty() && name.back() == ' ')
                    name.remove_suffix(1);
                if (name == "content-length")
                    field_ = Field::ContentLength;
                else if (name == "transfer-encoding")
                    field_ = Field::TransferEncoding;
                if (field_ != Field::Other && name.size() != name_.size()) // libsoup would ignore the line
                    return refuse(400, "whitespace between a header field name and its colon");
            } else if (name_.size() <= kMaxNameBytes) {
                name_ += (c == ' ' || c == '\t') ? ' ' : lower(char(c));
            }
            break;
        case Part::Done:
            break;
        }
    }
    return Result{Verdict::NeedMore, bytes.size()};
}

std::string refusalResponse(const Refusal& refusal, std::string_view serverHeader) {
    const std::string body = refusal.reason + "\n";
    std::string out = "HTTP/1.1 " + std::to_string(refusal.status) + " " + reasonPhrase(refusal.status) + "\r\n";
    if (!serverHeader.empty())
        out.append("Server: ").append(serverHeader).append("\r\n");
    out += "Content-Type: text/plain; charset=utf-8\r\n"
           "Content-Length: " + std::to_string(body.size()) + "\r\n"
           "Cache-Control: no-store\r\n"
           "Connection: close\r\n"
           "\r\n" + body;
    return out;
}

} // namespace manifold::server
