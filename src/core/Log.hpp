// Log.hpp — logging facade for layers that must not include GStreamer headers.
//
// What: printf-style log calls tagged with category, room and participant. The app installs
// a sink that routes every line to a GStreamer debug category (manifold-core,
// manifold-session, ...), so `GST_DEBUG=manifold*:5` controls everything. Without a sink
// (unit tests) errors and warnings go to stderr.
// Thread: any thread; the sink and thresholds are set once at start-up, before threads exist.
// Ownership: global, static.
#pragma once

#include <string>
#include <string_view>

namespace manifold::log {

/// Same numbering as GstDebugLevel.
enum class Level : int { Error = 1, Warning = 2, Fixme = 3, Info = 4, Debug = 5, Log = 6, Trace = 7 };
enum class Category : int { App, Core, Session, Server, Auth, Media, Count };
const char* name(Category category); // "manifold-core", ...

struct Sink {
    void (*write)(Category, Level, const char* file, int line, const char* function,
                  const std::string& message) = nullptr;
    int (*threshold)(Category) = nullptr; // current level at or below which lines are written
};
void setSink(Sink sink);

bool enabled(Category category, Level level);
void write(Category category, Level level, const char* file, int line, const char* function,
           const std::string& message);
std::string format(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
/// "[room/participant] " or "[room] " or "".
std::string tag(std::string_view room, std::string_view participant);

} // namespace manifold::log

#define MLOG(cat, lvl, ...)                                                                   \
    do {                                                                                      \
        if (::manifold::log::enabled(::manifold::log::Category::cat,                          \
                                     ::manifold::log::Level::lvl))                            \
            ::manifold::log::write(::manifold::log::Category::cat, ::manifold::log::Level::lvl, \
                                   __FILE__, __LINE__, __func__,                              \
                                   ::manifold::log::format(__VA_ARGS__));                     \
    } while (0)

/// Tagged with room and participant: MLOG_P(Session, Info, room, pid, "joined as %s", who)
#define MLOG_P(cat, lvl, room, participant, fmt, ...)                                         \
    do {                                                                                      \
        if (::manifold::log::enabled(::manifold::log::Category::cat,                          \
                                     ::manifold::log::Level::lvl))                            \
            ::manifold::log::write(::manifold::log::Category::cat, ::manifold::log::Level::lvl, \
                                   __FILE__, __LINE__, __func__,                              \
                                   ::manifold::log::tag(room, participant) +                  \
                                       ::manifold::log::format(fmt __VA_OPT__(,) __VA_ARGS__)); \
    } while (0)
