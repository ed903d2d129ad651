#include "core/Log.hpp"

#include <cstdarg>
#include <cstdio>

namespace manifold::log {
namespace {
Sink g_sink;
} // namespace

const char* name(Category category) {
    switch (category) {
    case Category::App: return "manifold-app";
    case Category::Core: return "manifold-core";
    case Category::Session: return "manifold-session";
    case Category::Server: return "manifold-server";
    case Category::Auth: return "manifold-auth";
    case Category::Media: return "manifold-media";
    case Category::Count: break;
    }
    return "manifold";
}

void setSink(Sink sink) { g_sink = sink; }

bool enabled(Category category, Level level) {
    const int threshold = g_sink.threshold ? g_sink.threshold(category) : int(Level::Warning);
    return int(level) <= threshold;
}

void write(Category category, Level level, const char* file, int line, const char* function,
           const std::string& message) {
    if (g_sink.write) {
        g_sink.write(category, level, file, line, function, message);
        return;
    }
    std::fprintf(stderr, "%s %s: %s\n", name(category), level == Level::Error ? "ERROR" : "WARN",
                 message.c_str());
}

std::string format(const char* fmt, ...) {
    va_list args;
    va_start(args, fmt);
    va_list copy;
    va_copy(copy, args);
    const int n = std::vsnprintf(nullptr, 0, fmt, copy);
    va_end(copy);
    std::string out;
    if (n > 0) {
        out.resize(std::size_t(n) + 1);
        std::vsnprintf(out.data(), out.size(), fmt, args);
        out.resize(std::size_t(n));
    }
    va_end(args);
    return out;
}

std::string tag(std::string_view room, std::string_view participant) {
    if (room.empty() && participant.empty()) return {};
    std::string out = "[";
    out.append(room);
    if (!participant.empty()) {
        out += '/';
        out.append(participant);
    }
    out += "] ";
    return out;
}

} // namespace manifold::log
