// `lumen serve`: the interactive explorer for one or more runs, on loopback unless told
// otherwise (server/http.h; the API is docs/api.md).
#include <csignal>
#include <cstdio>
#include <thread>

#include "cli/common.h"
#include "core/error.h"
#include "server/http.h"

namespace lumen::cli {
namespace {
server::HttpServer* g_server = nullptr;
extern "C" void stop_serving(int) {
  // httplib's stop() only flips a flag and shuts the listening socket: safe enough here, and
  // the only way out of listen().
  if (g_server) g_server->stop();
}
}  // namespace

void register_serve(CLI::App& app) {
  auto o = std::make_shared<server::ServeOptions>();
  auto* cmd = app.add_subcommand("serve", "Serve the interactive explorer (a local web page) for trained runs");
  cmd->add_option("--run", o->runs, "Run directory; repeat to serve several side by side")->required();
  cmd->add_option("--port", o->port, "Port (0 = any free port)")->capture_default_str();
  cmd->add_option("--host", o->host, "Interface to bind (127.0.0.1: this machine only)")->capture_default_str();
  cmd->add_option("--workers", o->workers, "Requests computed at once, one model copy each (0 = --threads)")
      ->capture_default_str();
  cmd->add_option("--max-body", o->max_body_bytes, "Largest request body in bytes (larger: 413)")->capture_default_str();
  cmd->add_option("--max-text-chars", o->limits.max_text_chars, "Longest text a request may send")->capture_default_str();
  cmd->callback([o] {
    setup_runtime();
    o->validate();
    if (o->host != "127.0.0.1" && o->host != "localhost" && o->host != "::1")
      warn("serve: listening on " + o->host + ": other machines can reach the explorer (it has no login)");
    auto api = std::make_shared<const server::Api>(server::open_runs(*o), o->limits);
    server::HttpServer http(api, *o);
    const int port = http.bind();
    g_server = &http;
    std::signal(SIGINT, stop_serving);
    std::signal(SIGTERM, stop_serving);
    // The address on stdout (scripts and tests read it); the rest on stderr.
    std::printf("http://%s:%d/\n", o->host.c_str(), port);
    std::fflush(stdout);
    info("serving " + std::to_string(api->runs().size()) + " run(s); Ctrl-C stops");
    http.run();
    g_server = nullptr;
  });
}

}  // namespace lumen::cli
