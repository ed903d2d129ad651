// JsonSyntax.cpp — see JsonSyntax.hpp.
#include "signalling/protocol/JsonSyntax.hpp"

#include <algorithm>
#include <string>
#include <vector>

namespace manifold::protocol::json {
namespace {

enum class State {
    Value,        // a value must follow
    ValueOrClose, // just after '[': a value or ']'
    KeyOrClose,   // just after '{': a key or '}'
    Key,          // after ',' in an object
    Colon,        // after a key
    After,        // after a complete value
};

class Checker {
public:
    Checker(std::string_view text, std::size_t maxDepth) : text_(text), maxDepth_(maxDepth) {}

    SyntaxCheck run() {
        State state = State::Value;
        for (;;) {
            skipSpace();
            if (state == State::After && stack_.empty())
                break;
            if (pos_ >= text_.size())
                return fail("unexpected end of input");
            const char c = text_[pos_];
            switch (state) {
            case State::ValueOrClose:
                if (c == ']') {
                    ++pos_;
                    stack_.pop_back();
                    state = State::After;
                    break;
                }
                [[fallthrough]];
            case State::Value:
                if (c == '{' || c == '[') {
                    if (stack_.size() >= maxDepth_)
                        return fail("nesting deeper than " + std::to_string(maxDepth_) + " levels");
                    stack_.push_back(Level{c, 0, {}});
                    ++pos_;
                    state = c == '{' ? State::KeyOrClose : State::ValueOrClose;
                } else {
                    if (!scanScalar())
                        return std::move(result_);
                    state = State::After;
                }
                break;
            case State::KeyOrClose:
                if (c == '}') {
                    ++pos_;
                    stack_.pop_back();
                    state = State::After;
                    break;
                }
                [[fallthrough]];
            case State::Key: {
                if (c != '"')
                    return fail("expected a string key");
                const std::size_t start = pos_;
                if (!scanString(true))
                    return std::move(result_);
                stack_.back().key = text_.substr(start + 1, pos_ - start - 2);
                state = State::Colon;
                break;
            }
            case State::Colon:
                if (c != ':')
                    return fail("expected ':'");
                ++pos_;
                state = State::Value;
                break;
            case State::After: {
                const char open = stack_.back().open;
                if (c == ',') {
                    ++pos_;
                    if (open == '[')
                        ++stack_.back().index;
                    state = open == '{' ? State::Key : State::Value;
                } else if (c == (open == '{' ? '}' : ']')) {
                    ++pos_;
                    stack_.pop_back();
                } else {
                    return fail(open == '{' ? "expected ',' or '}'" : "expected ',' or ']'");
                }
                break;
            }
            }
        }
        if (pos_ != text_.size())
            return fail("unexpected data after the JSON value");
        result_.ok = true;
        return std::move(result_);
    }

private:
    // Records the first problem; returns false so scanners can `return failScan(...)`.
    bool failScan(std::string what) {
        result_.ok = false;
        result_.problem = std::move(what) + " at byte " + std::to_string(pos_);
        result_.longIntegerEnds.clear();
        result_.nul.reset();
        return false;
    }
    SyntaxCheck fail(std::string what) {
        failScan(std::move(what));
        return std::move(result_);
    }

    void skipSpace() {
        while (pos_ < text_.size()) {
            const char c = text_[pos_];
            if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
                return;
            ++pos_;
        }
    }

    bool scanScalar() {
        const char c = text_[pos_];
        if (c == '"')
            return scanString(false);
        if (c == '-' || (c >= '0' && c <= '9'))
            return scanNumber();
        for (std::string_view word : {std::string_view("true"), std::string_view("false"),
                                      std::string_view("null")}) {
            if (text_.substr(pos_, word.size()) == word) {
                pos_ += word.size();
                return true;
            }
        }
        return failScan("unexpected character");
    }

    static int hexValue(char c) {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
    }

    // Reads "\uXXXX" at pos_ (pointing at the backslash); returns the code unit or -1.
    long readUnicodeEscape() {
        if (pos_ + 6 > text_.size() || text_[pos_] != '\\' || text_[pos_ + 1] != 'u')
            return -1;
        long unit = 0;
        for (std::size_t i = 2; i < 6; ++i) {
            const int h = hexValue(text_[pos_ + i]);
            if (h < 0)
                return -1;
            unit = unit * 16 + h;
        }
        pos_ += 6;
        return unit;
    }

    // Records the first string holding \u0000 (a member name when `key`), with its path.
    void noteNul(bool key) {
        if (result_.nul)
            return;
        NulString nul;
        nul.memberName = key;
        // A member name belongs to the innermost object itself; a value to that object's
        // current member (or the array's current element).
        const std::size_t levels = key ? stack_.size() - 1 : stack_.size();
        for (std::size_t i = 0; i < levels; ++i) {
            const Level& level = stack_[i];
            if (level.open == '[') {
                // Appended piece by piece: `"[" + std::to_string(...)` trips GCC 12's
                // -Wrestrict false positive at -O3 (the release build).
                nul.path += '[';
                nul.path += std::to_string(level.index);
                nul.path += ']';
                continue;
            }
            std::size_t cut = std::min<std::size_t>(level.key.size(), 64);
            while (cut > 0 && cut < level.key.size() &&
                   (static_cast<unsigned char>(level.key[cut]) & 0xC0) == 0x80)
                --cut; // keep UTF-8 whole
            if (!nul.path.empty())
                nul.path += '.';
            nul.path.append(level.key.substr(0, cut));
        }
        result_.nul = std::move(nul);
    }

    bool scanString(bool key) {
        ++pos_; // opening quote
        while (pos_ < text_.size()) {
            const unsigned char c = static_cast<unsigned char>(text_[pos_]);
            if (c == '"') {
                ++pos_;
                return true;
            }
            if (c < 0x20)
                return failScan("control character in string");
            if (c != '\\') {
                ++pos_;
                continue;
            }
            if (pos_ + 1 >= text_.size())
                break;
            const char e = text_[pos_ + 1];
            if (e == '"' || e == '\\' || e == '/' || e == 'b' || e == 'f' || e == 'n' ||
                e == 'r' || e == 't') {
                pos_ += 2;
                continue;
            }
            if (e != 'u')
                return failScan("invalid escape in string");
            const long unit = readUnicodeEscape();
            if (unit < 0)
                return failScan("invalid \\u escape in string");
            if (unit == 0)
                noteNul(key); // valid JSON; json-glib would cut the string here

            if (unit >= 0xDC00 && unit <= 0xDFFF)
                return failScan("lone low surrogate in string");
            if (unit >= 0xD800 && unit <= 0xDBFF) {
                const long low = readUnicodeEscape();
                if (low < 0xDC00 || low > 0xDFFF)
                    return failScan("lone high surrogate in string");
            }
        }
        return failScan("unterminated string");
    }

    bool scanDigits() {
        const std::size_t start = pos_;
        while (pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9')
            ++pos_;
        return pos_ > start;
    }

    bool scanNumber() {
        if (text_[pos_] == '-')
            ++pos_;
        const std::size_t digitsStart = pos_;
        if (pos_ < text_.size() && text_[pos_] == '0') {
            ++pos_;
        } else if (!scanDigits()) {
            return failScan("invalid number");
        }
        const std::size_t integerDigits = pos_ - digitsStart;
        bool integral = true;
        if (pos_ < text_.size() && text_[pos_] == '.') {
            ++pos_;
            integral = false;
            if (!scanDigits())
                return failScan("invalid number");
        }
        if (pos_ < text_.size() && (text_[pos_] == 'e' || text_[pos_] == 'E')) {
            ++pos_;
            integral = false;
            if (pos_ < text_.size() && (text_[pos_] == '+' || text_[pos_] == '-'))
                ++pos_;
            if (!scanDigits())
                return failScan("invalid number");
        }
        // Any size is valid JSON. Integers that may not fit int64 go to json-glib as
        // doubles; beyond a double's range json-glib reads +-infinity, which no range
        // check accepts.
        if (integral && integerDigits >= 19)
            result_.longIntegerEnds.push_back(pos_);
        return true;
    }

    std::string_view text_;
    std::size_t maxDepth_;
    std::size_t pos_ = 0;
    struct Level {
        char open;             // '{' or '['
        std::size_t index;     // array: the current element
        std::string_view key;  // object: the current member name, as written
    };
    std::vector<Level> stack_; // open containers
    SyntaxCheck result_;
};

} // namespace

SyntaxCheck checkJsonSyntax(std::string_view text, std::size_t maxDepth) {
    return Checker(text, maxDepth).run();
}

} // namespace manifold::protocol::json
