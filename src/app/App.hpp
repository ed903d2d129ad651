// App.hpp — wires the layers together and runs the control thread's main loop.
//
// What: builds the Authorizer chosen by --auth, the EventNotifier, the Gateway and the
// HttpServer from a validated Config; runs the GLib main loop; on SIGINT/SIGTERM tells
// every participant, closes every connection, lets pending event notifications go out
// (bounded), and returns. A second signal stops at once.
// Teardown order: server (connections, sessions and their media sessions) -> gateway
// (rooms) -> media engine (waits for pipelines to stop) -> event bridge -> notifier ->
// authorizer -> scheduler -> main loop.
// Thread: the main thread, which is the control thread.
// Ownership: owned by main(); owns everything below it.
#pragma once

#include <glib.h>

#include <memory>

#include "app/Config.hpp"

namespace manifold {
class GLibScheduler;
class Gateway;
namespace auth {
class Authorizer;
class EventNotifier;
} // namespace auth
namespace server {
class HttpServer;
}
namespace media {
class WebrtcEngine;
}
namespace app {
class EventBridge;

class App {
public:
    explicit App(Config config);
    ~App();
    App(const App&) = delete;
    App& operator=(const App&) = delete;

    /// Runs until a signal stops it. Returns the process exit status.
    int run();

private:
    static gboolean onSignal(gpointer self) noexcept;
    void beginShutdown();
    void pollShutdown();

    Config config_;
    GMainLoop* loop_ = nullptr;                      // Allocated by this.
    std::unique_ptr<GLibScheduler> scheduler_;
    std::unique_ptr<auth::Authorizer> authorizer_;
    std::unique_ptr<auth::EventNotifier> notifier_;  // null without --events-url
    std::unique_ptr<EventBridge> events_;
    std::unique_ptr<media::WebrtcEngine> media_;
    std::unique_ptr<Gateway> gateway_;
    std::unique_ptr<server::HttpServer> server_;
    guint sigint_ = 0;
    guint sigterm_ = 0;
    gint64 shutdownDeadline_ = 0; // monotonic µs; 0 = running
};

} // namespace app
} // namespace manifold
