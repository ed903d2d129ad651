// main.cpp — the `manifold` binary: parse options, set up logging, run the App.
#include <gst/gst.h>

#include <iostream>

#include "app/App.hpp"
#include "app/Config.hpp"
#include "app/GstPlugins.hpp"
#include "app/LogSink.hpp"

int main(int argc, char** argv) {
    std::vector<std::string> args(argv + 1, argv + argc);
    manifold::app::Config config;
    switch (manifold::app::parseConfig(args, config, std::cout, std::cerr)) {
    case manifold::app::ParseOutcome::ExitOk: return 0;
    case manifold::app::ParseOutcome::ExitUsage: return 2;
    case manifold::app::ParseOutcome::Run: break;
    }
    // Before gst_init, which builds the plugin registry: the first plugin found wins.
    manifold::app::preferPluginDir(config.gstPluginDir);
    gst_init(nullptr, nullptr);
    manifold::app::installLogSink(config.logLevel);
    const manifold::app::PluginInUse rtp = manifold::app::pluginInUse("rtpmanager", config.gstPluginDir);
    std::cout << "manifold: rtpmanager from " << (rtp.file.empty() ? "nowhere" : rtp.file) << " (" << rtp.package << ")"
              << std::endl;
    if (!rtp.fromDir)
        std::cerr << "manifold: warning: the system's rtpmanager has GStreamer 1.22 defects that show as "
                     "CRITICAL warnings during churn; bash subprojects/gst-rtpmanager-patched/build.sh builds "
                     "the patched one (--gst-plugin-dir)\n";
    int status = 0;
    {
        manifold::app::App app(std::move(config));
        status = app.run();
    }
    gst_deinit();
    return status;
}
