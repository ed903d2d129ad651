// GstPlugins.hpp — makes GStreamer load our patched plugins instead of the system's.
//
// What: `--gst-plugin-dir DIR` holds plugins that replace system plugins of the same file
// name; today the rtpmanager built by subprojects/gst-rtpmanager-patched/build.sh (rtpbin
// and rtpsession with fixes for GStreamer 1.22 defects, see the README there). GStreamer
// registers one plugin per file name, the first one its registry scan finds, and it scans
// GST_PLUGIN_PATH_1_0 (or GST_PLUGIN_PATH) before the system directories: so DIR is put
// first in that variable before gst_init, and after gst_init the registry tells which
// rtpmanager won.
// Thread: main thread only, around gst_init, before any other thread exists (setenv).
// Ownership: nothing kept.
#pragma once

#include <string>

namespace manifold::app {

/// Where build.sh puts its output for this source tree (compiled in; may not exist).
std::string bundledPluginDir();

/// Before gst_init: puts `dir` (if not empty) first in GST_PLUGIN_PATH_1_0, keeping what
/// GST_PLUGIN_PATH_1_0 or GST_PLUGIN_PATH held after it.
void preferPluginDir(const std::string& dir);

struct PluginInUse {
    std::string file;    // the plugin file the registry uses; "" if there is no such plugin
    std::string package; // its package description (ours names "Manifold rtpsession patches")
    bool fromDir = false; // the file is in the preferred directory
};

/// After gst_init: which file provides plugin `name` ("rtpmanager").
PluginInUse pluginInUse(const std::string& name, const std::string& preferredDir);

} // namespace manifold::app
