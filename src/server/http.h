// `lumen serve`: the explorer's HTTP server (cpp-httplib) over the API (server/api.h) and the
// embedded web front end (server/assets.h). A fixed pool of worker threads answers requests;
// each request leases a model replica, so workers never share a model.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "core/json.h"
#include "server/api.h"

namespace httplib {
class Server;
}

namespace lumen::server {

struct ServeOptions {
  // Run directories, served under their directory names (which must differ).
  std::vector<std::string> runs;
  // Interface to bind: loopback unless the user says otherwise.
  std::string host = "127.0.0.1";
  // 0: any free port (see HttpServer::port()).
  int port = 8080;
  // Request bodies above this many bytes are refused with 413.
  int64_t max_body_bytes = 1 << 20;
  // Worker threads (and model replicas per run); 0: one per core (--threads).
  int workers = 0;
  ApiLimits limits;
  // Throws InvalidArgument naming the field.
  void validate() const;
  Json to_json() const;
};

// The runs of `options`, each loaded once per worker.
std::vector<std::shared_ptr<app::RunPool>> open_runs(const ServeOptions& options);

class HttpServer {
 public:
  HttpServer(std::shared_ptr<const Api> api, ServeOptions options);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;
  // Binds the socket; returns the port. Throws IoError when it can't.
  int bind();
  int port() const { return port_; }
  // Serves until stop() (from another thread or a signal handler's thread). Binds first if needed.
  void run();
  void stop();

 private:
  std::shared_ptr<const Api> api_;
  ServeOptions options_;
  std::unique_ptr<httplib::Server> server_;
  int port_ = -1;
};

}  // namespace lumen::server
