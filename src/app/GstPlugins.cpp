#include "app/GstPlugins.hpp"

#include <gst/gst.h>

#include <cstdlib>

namespace manifold::app {

std::string bundledPluginDir() { return MANIFOLD_BUNDLED_PLUGIN_DIR; }

void preferPluginDir(const std::string& dir) {
    if (dir.empty()) return;
    // GStreamer reads GST_PLUGIN_PATH only when GST_PLUGIN_PATH_1_0 is unset.
    const char* before = std::getenv("GST_PLUGIN_PATH_1_0");
    if (!before) before = std::getenv("GST_PLUGIN_PATH");
    std::string path = dir;
    if (before && *before) {
        path += G_SEARCHPATH_SEPARATOR;
        path += before;
    }
    g_setenv("GST_PLUGIN_PATH_1_0", path.c_str(), TRUE);
}

PluginInUse pluginInUse(const std::string& name, const std::string& preferredDir) {
    PluginInUse out;
    GstPlugin* plugin = gst_registry_find_plugin(gst_registry_get(), name.c_str());
    if (!plugin) return out;
    if (const gchar* file = gst_plugin_get_filename(plugin)) out.file = file;
    if (const gchar* package = gst_plugin_get_package(plugin)) out.package = package;
    gst_object_unref(plugin);
    if (!preferredDir.empty() && !out.file.empty()) {
        gchar* dir = g_path_get_dirname(out.file.c_str());
        gchar* a = g_canonicalize_filename(dir, nullptr);
        gchar* b = g_canonicalize_filename(preferredDir.c_str(), nullptr);
        out.fromDir = g_str_equal(a, b);
        g_free(dir);
        g_free(a);
        g_free(b);
    }
    return out;
}

} // namespace manifold::app
