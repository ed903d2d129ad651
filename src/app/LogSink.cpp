#include "app/LogSink.hpp"

#include <gst/gst.h>

#include <cstdlib>
#include <cstring>

#include "core/Log.hpp"

namespace manifold::app {
namespace {

GstDebugCategory* g_categories[int(log::Category::Count)] = {};

void write(log::Category category, log::Level level, const char* file, int line, const char* function,
           const std::string& message) {
    gst_debug_log(g_categories[int(category)], GstDebugLevel(level), file, function, line, nullptr,
                  "%s", message.c_str());
}

int threshold(log::Category category) {
    return int(gst_debug_category_get_threshold(g_categories[int(category)]));
}

GstDebugLevel parseLevel(const std::string& level) {
    if (level == "error") return GST_LEVEL_ERROR;
    if (level == "info") return GST_LEVEL_INFO;
    if (level == "debug") return GST_LEVEL_DEBUG;
    if (level == "trace") return GST_LEVEL_TRACE;
    return GST_LEVEL_WARNING;
}

} // namespace

void installLogSink(const std::string& level) {
    for (int i = 0; i < int(log::Category::Count); ++i) {
        const char* name = log::name(log::Category(i));
        g_categories[i] = _gst_debug_category_new(name, 0, "Manifold media gateway");
    }
    const char* env = std::getenv("GST_DEBUG");
    if (!env || !std::strstr(env, "manifold")) gst_debug_set_threshold_for_name("manifold*", parseLevel(level));
    log::setSink(log::Sink{&write, &threshold});
}

} // namespace manifold::app
