// Loopback load on the real explorer server (`lumen serve`'s HttpServer, started in this
// process on a free port): C clients, each with its own keep-alive connection, post the same
// explain request (a text of about 30 tokens, the fast methods by default) for S seconds.
// Prints one JSON object: requests, errors, throughput, latency percentiles (ms).
//   lumen_load --run DIR [--clients 8] [--seconds 30] [--workers 0] [--methods LIST] [--edit E]
//              [--text T] [--predict]
#include <httplib.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <thread>

#include "core/json.h"
#include "core/parallel.h"
#include "core/runtime.h"
#include "server/http.h"

int main(int argc, char** argv) {
  lumen::select_blas_kernels(argv);
  using namespace lumen;
  CLI::App app("Loopback load test of lumen serve");
  std::string run, methods, text = "the film was good and the cast was fine but the plot was long and the end was a bit weak "
                                   "so i would not see it again though the music was great";
  std::vector<std::string> edits;
  int clients = 8, workers = 0;
  double seconds = 30;
  bool predict = false;
  app.add_option("--run", run, "Run directory")->required();
  app.add_option("--clients", clients, "Concurrent clients")->capture_default_str();
  app.add_option("--seconds", seconds, "Duration")->capture_default_str();
  app.add_option("--workers", workers, "Server workers (model replicas); 0 = cores")->capture_default_str();
  app.add_option("--methods", methods, "Methods (default: the server's fast set)");
  app.add_option("--edit", edits, "Attention edits sent with every request");
  app.add_option("--text", text, "The text")->capture_default_str();
  app.add_flag("--predict", predict, "POST /api/predict instead of /api/explain");
  CLI11_PARSE(app, argc, argv);
  configure_threads(0);

  server::ServeOptions o;
  o.runs = {run};
  o.port = 0;
  o.workers = workers;
  auto api = std::make_shared<const server::Api>(server::open_runs(o), o.limits);
  server::HttpServer http(api, o);
  const int port = http.bind();
  std::thread serving([&] { http.run(); });
  const std::string name = api->runs().front()->name();
  Json body = {{"run", name}, {"text", text}};
  if (predict) body = {{"run", name}, {"texts", {text}}};
  if (!methods.empty() && !predict) body["methods"] = methods;
  if (!edits.empty()) body["edits"] = edits;
  const std::string payload = body.dump();
  const char* path = predict ? "/api/predict" : "/api/explain";

  // One warm-up request (allocations, the first pass of every method).
  {
    httplib::Client c("127.0.0.1", port);
    auto r = c.Post(path, payload, "application/json");
    if (!r || r->status != 200) {
      std::fprintf(stderr, "warm-up failed: %s\n", r ? r->body.c_str() : "no answer");
      http.stop();
      serving.join();
      return 1;
    }
  }
  std::mutex m;
  std::vector<double> latencies;
  std::atomic<int64_t> errors{0};
  const auto t0 = std::chrono::steady_clock::now();
  const auto end = t0 + std::chrono::duration<double>(seconds);
  std::vector<std::thread> threads;
  for (int k = 0; k < clients; ++k)
    threads.emplace_back([&] {
      httplib::Client c("127.0.0.1", port);
      c.set_keep_alive(true);
      c.set_tcp_nodelay(true);
      c.set_read_timeout(120, 0);
      std::vector<double> mine;
      while (std::chrono::steady_clock::now() < end) {
        const auto a = std::chrono::steady_clock::now();
        auto r = c.Post(path, payload, "application/json");
        const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - a).count();
        if (!r || r->status != 200) ++errors;
        else mine.push_back(ms);
      }
      std::lock_guard<std::mutex> lock(m);
      latencies.insert(latencies.end(), mine.begin(), mine.end());
    });
  for (auto& t : threads) t.join();
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  http.stop();
  serving.join();
  std::sort(latencies.begin(), latencies.end());
  auto pct = [&](double q) {
    if (latencies.empty()) return 0.0;
    return latencies[std::min(latencies.size() - 1, static_cast<size_t>(q * (latencies.size() - 1) + 0.5))];
  };
  Json out = {{"path", path},
              {"clients", clients},
              {"workers", workers > 0 ? workers : cores()},
              {"seconds", elapsed},
              {"requests", latencies.size()},
              {"errors", errors.load()},
              {"requests_per_second", latencies.size() / elapsed},
              {"latency_ms", {{"p50", pct(0.5)}, {"p90", pct(0.9)}, {"p99", pct(0.99)}, {"max", latencies.empty() ? 0.0 : latencies.back()}}},
              {"request", body}};
  std::printf("%s\n", out.dump(1).c_str());
  return errors.load() == 0 ? 0 : 1;
}
