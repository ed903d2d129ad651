// main.cpp — the `manifold` binary: parse options, set up logging, run the App.
#include <gst/gst.h>

#include <iostream>

#include "app/App.hpp"
#include "app/Config.hpp"
#include "app/LogSink.hpp"

int main(int argc, char** argv) {
    std::vector<std::string> args(argv + 1, argv + argc);
    manifold::app::Config config;
    switch (manifold::app::parseConfig(args, config, std::cout, std::cerr)) {
    case manifold::app::ParseOutcome::ExitOk: return 0;
    case manifold::app::ParseOutcome::ExitUsage: return 2;
    case manifold::app::ParseOutcome::Run: break;
    }
    gst_init(nullptr, nullptr);
    manifold::app::installLogSink(config.logLevel);
    int status = 0;
    {
        manifold::app::App app(std::move(config));
        status = app.run();
    }
    gst_deinit();
    return status;
}
