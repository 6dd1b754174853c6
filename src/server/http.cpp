#include "server/http.h"

#include <httplib.h>

#include <filesystem>
#include <set>

#include "core/error.h"
#include "core/parallel.h"
#include "server/assets.h"

namespace lumen::server {
namespace {

// Headers every answer carries: no script from elsewhere, no sniffing, no framing.
void secure(httplib::Response& res) {
  res.set_header("Content-Security-Policy",
                 "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
                 "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'");
  res.set_header("X-Content-Type-Options", "nosniff");
  res.set_header("Referrer-Policy", "no-referrer");
  res.set_header("Cache-Control", "no-store");
}

void send_json(httplib::Response& res, int status, const Json& body) {
  res.status = status;
  secure(res);
  res.set_content(body.dump(), "application/json");
}

Json error_body(int status, const std::string& message) { return {{"error", message}, {"status", status}}; }

bool escapes_root(const std::string& path) {
  // Any ".." segment (httplib hands the decoded path) or a backslash: refused, whatever follows.
  if (path.find('\\') != std::string::npos || path.find('\0') != std::string::npos) return true;
  size_t start = 0;
  while (start <= path.size()) {
    const size_t slash = path.find('/', start);
    const std::string part = path.substr(start, slash == std::string::npos ? std::string::npos : slash - start);
    if (part == "..") return true;
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  return false;
}

}  // namespace

void ServeOptions::validate() const {
  if (runs.empty()) throw InvalidArgument("serve: give at least one --run");
  if (host.empty()) throw InvalidArgument("serve: host must not be empty");
  if (port < 0 || port > 65535) throw InvalidArgument("serve: port must be in [0, 65535]");
  if (max_body_bytes < 1024) throw InvalidArgument("serve: max_body_bytes must be >= 1024");
  if (workers < 0) throw InvalidArgument("serve: workers must be >= 0");
  limits.validate();
}

Json ServeOptions::to_json() const {
  return {{"runs", runs}, {"host", host}, {"port", port}, {"max_body_bytes", max_body_bytes},
          {"workers", workers}, {"limits", limits.to_json()}};
}

std::vector<std::shared_ptr<app::RunPool>> open_runs(const ServeOptions& o) {
  o.validate();
  const int replicas = o.workers > 0 ? o.workers : cores();
  std::vector<std::shared_ptr<app::RunPool>> out;
  std::set<std::string> names;
  for (const auto& dir : o.runs) {
    std::string name = std::filesystem::path(dir).lexically_normal().filename().string();
    if (name.empty() || name == ".") name = std::filesystem::path(dir).lexically_normal().parent_path().filename().string();
    if (!names.insert(name).second)
      throw InvalidArgument("serve: two runs are named '" + name + "' (serve directories with different names)");
    out.push_back(std::make_shared<app::RunPool>(name, dir, replicas));
  }
  return out;
}

HttpServer::HttpServer(std::shared_ptr<const Api> api, ServeOptions options)
    : api_(std::move(api)), options_(std::move(options)), server_(std::make_unique<httplib::Server>()) {
  options_.validate();
  httplib::Server& s = *server_;
  // Connections wait on the network, so there are more connection threads than cores; the
  // computation is bounded by the model replicas each request leases (app::RunPool).
  const size_t threads = static_cast<size_t>(std::max(16, 4 * (options_.workers > 0 ? options_.workers : cores())));
  s.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  s.set_payload_max_length(static_cast<size_t>(options_.max_body_bytes));
  s.set_keep_alive_max_count(1000);
  // Answers are small and sent at once: without TCP_NODELAY, Nagle's algorithm and the
  // client's delayed ACK hold each one back for ~40 ms.
  s.set_tcp_nodelay(true);
  s.set_read_timeout(30, 0);
  s.set_pre_routing_handler([](const httplib::Request& req, httplib::Response& res) {
    if (escapes_root(req.path)) {
      send_json(res, 403, error_body(403, "path outside the web root refused"));
      return httplib::Server::HandlerResponse::Handled;
    }
    return httplib::Server::HandlerResponse::Unhandled;
  });
  // Errors httplib answers itself (413 for an oversized body, 400 for a broken request) get a
  // JSON body too.
  s.set_error_handler([](const httplib::Request&, httplib::Response& res) {
    if (!res.body.empty()) return;
    const int status = res.status;
    std::string message = status == 413 ? "request body too large" : "request refused";
    if (status == 404) message = "not found";
    send_json(res, status, error_body(status, message));
  });
  s.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
    std::string message = "internal error";
    try {
      if (ep) std::rethrow_exception(ep);
    } catch (const std::exception& e) {
      message += std::string(": ") + e.what();
    } catch (...) {
    }
    send_json(res, 500, error_body(500, message));
  });
  auto api_handler = [this](const httplib::Request& req, httplib::Response& res) {
    if (static_cast<int64_t>(req.body.size()) > options_.max_body_bytes) {  // chunked bodies
      send_json(res, 413, error_body(413, "request body too large"));
      return;
    }
    std::multimap<std::string, std::string> params(req.params.begin(), req.params.end());
    const ApiResponse r = api_->handle(req.method, req.path, params, req.body);
    send_json(res, r.status, r.body);
  };
  s.Get(R"(/api/.*)", api_handler);
  s.Post(R"(/api/.*)", api_handler);
  s.Put(R"(/api/.*)", api_handler);
  s.Delete(R"(/api/.*)", api_handler);
  s.Get(R"(/.*)", [](const httplib::Request& req, httplib::Response& res) {
    const std::string path = req.path == "/index.html" ? "/" : req.path;
    for (const Asset& a : web_assets()) {
      if (a.path != path) continue;
      res.status = 200;
      secure(res);
      res.set_content(std::string(a.body), std::string(a.content_type));
      return;
    }
    send_json(res, 404, error_body(404, "not found: " + req.path));
  });
}

HttpServer::~HttpServer() { stop(); }

int HttpServer::bind() {
  if (port_ >= 0) return port_;
  const int p = options_.port == 0 ? server_->bind_to_any_port(options_.host)
                                   : (server_->bind_to_port(options_.host, options_.port) ? options_.port : -1);
  if (p < 0)
    throw IoError("serve: cannot listen on " + options_.host + ":" + std::to_string(options_.port) +
                  " (in use, or not an address of this machine)");
  port_ = p;
  return port_;
}

void HttpServer::run() {
  bind();
  server_->listen_after_bind();
}

void HttpServer::stop() {
  if (server_ && server_->is_running()) server_->stop();
}

}  // namespace lumen::server
