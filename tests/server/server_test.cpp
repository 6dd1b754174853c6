// `lumen serve` over loopback (server/http.h, server/api.h): the answers are the CLI's JSON;
// bad requests get a clear status naming the field; nothing outside the web root is served;
// concurrent requests with different attention edits answer as sequential ones (no shared
// model state); a thousand requests leave the resident memory flat.
#include <gtest/gtest.h>
#include <httplib.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "core/json.h"
#include "core/runtime.h"
#include "server/http.h"
#include "support/fixtures.h"

namespace lumen::server {
namespace {

class Server : public testing::Test {
 protected:
  static void SetUpTestSuite() {
    configure_threads(0);  // as `lumen` runs: LibTorch on one thread, Lumen's kernels on every core
    dir_ = new test::TempDir();
    const auto r = test::run_lumen("train -q --data 'synthetic-keywords?n=300&length=12' --out " + dir_->file("kw") +
                                   " --embed-dim 16 --hidden 8 --epochs 3 --seed 3");
    ASSERT_EQ(r.code, 0) << r.output;
  }
  static void TearDownTestSuite() { delete dir_; }

  void SetUp() override {
    ServeOptions o;
    o.runs = {dir_->file("kw")};
    o.port = 0;
    o.workers = 2;
    o.max_body_bytes = 64 * 1024;
    api_ = std::make_shared<const Api>(open_runs(o), o.limits);
    http_ = std::make_unique<HttpServer>(api_, o);
    port_ = http_->bind();
    thread_ = std::thread([this] { http_->run(); });
  }
  void TearDown() override {
    http_->stop();
    thread_.join();
  }

  httplib::Client client() const {
    httplib::Client c("127.0.0.1", port_);
    c.set_read_timeout(60, 0);
    return c;
  }
  // The job's state once it has left queued / running (polled every 50 ms, for a minute at most).
  Json finished(const std::string& url) const {
    auto c = client();
    Json st;
    for (int i = 0; i < 1200; ++i) {
      st = Json::parse(c.Get(url.c_str())->body);
      if (st["state"] != "queued" && st["state"] != "running") break;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return st;
  }
  Json post(const std::string& path, const Json& body, int expect = 200) const {
    auto c = client();
    auto res = c.Post(path.c_str(), body.dump(), "application/json");
    EXPECT_TRUE(res) << path;
    if (!res) return {};
    EXPECT_EQ(res->status, expect) << path << " " << res->body;
    return Json::parse(res->body);
  }

  static test::TempDir* dir_;
  std::shared_ptr<const Api> api_;
  std::unique_ptr<HttpServer> http_;
  std::thread thread_;
  int port_ = 0;
};
test::TempDir* Server::dir_ = nullptr;

// The document without what legitimately differs between two computations of it.
Json stable(Json doc) {
  doc.erase("seconds");
  doc.erase("run");
  return doc;
}

TEST_F(Server, AnswersWithTheCliJson) {
  const std::string text = "the movie was good and the cast was fine";
  const Json served = post("/api/explain", {{"run", "kw"}, {"text", text}, {"methods", "attention,saliency,ig,loo"}});
  const auto r = test::run_lumen("--json explain --run " + dir_->file("kw") + " --methods attention,saliency,ig,loo '" + text + "'");
  ASSERT_EQ(r.code, 0) << r.output;
  const Json cli = Json::parse(r.output.substr(r.output.find('{')));
  EXPECT_EQ(served["run"], "kw");
  EXPECT_EQ(stable(served).dump(), stable(cli).dump());

  const Json predicted = post("/api/predict", {{"run", "kw"}, {"texts", {text, "bad"}}});
  const auto p = test::run_lumen("--json predict --run " + dir_->file("kw") + " '" + text + "' bad");
  ASSERT_EQ(p.code, 0) << p.output;
  EXPECT_EQ(predicted.dump(), Json::parse(p.output.substr(p.output.find('['))).dump());

  const Json runs = Json::parse(client().Get("/api/runs")->body);
  ASSERT_EQ(runs["runs"].size(), 1u);
  EXPECT_EQ(runs["runs"][0]["name"], "kw");
  EXPECT_TRUE(runs["runs"][0]["attention"]["pooling"].get<bool>());
  const Json ex = Json::parse(client().Get("/api/runs/kw/examples?split=test&limit=3")->body);
  EXPECT_EQ(ex["examples"].size(), 3u);
  EXPECT_GT(ex["total"].get<int64_t>(), 3);
}

TEST_F(Server, AdaptiveIntegratedGradientsEqualTheCliAndReportStepsPerInstance) {
  const std::string text = "the movie was good and the cast was fine";
  const Json served = post("/api/explain", {{"run", "kw"}, {"text", text}, {"methods", "ig"},
                                            {"options", {{"tolerance", 1e-3}, {"max_steps", 256}}}});
  const auto r = test::run_lumen("--json explain --run " + dir_->file("kw") +
                                 " --methods ig --ig-tolerance 0.001 --ig-max-steps 256 '" + text + "'");
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_EQ(stable(served).dump(), stable(Json::parse(r.output.substr(r.output.find('{')))).dump());
  const Json& ig = served["instances"][0]["attributions"]["ig"];
  const int64_t steps = ig["details"]["steps"].get<int64_t>();
  EXPECT_GE(steps, 4);
  EXPECT_LE(steps, 256);
  EXPECT_TRUE(ig["completeness_gap"].get<double>() <= 1e-3 || steps * 2 > 256) << ig.dump();
}

TEST_F(Server, AttentionEditsMoveThePredictionPerRequest) {
  const std::string text = "the movie was good and the cast was fine";
  const Json plain = post("/api/explain", {{"run", "kw"}, {"text", text}, {"methods", "attention"}});
  const auto w = plain["instances"][0]["attention"]["pooling"].get<std::vector<double>>();
  const size_t top = std::max_element(w.begin(), w.end()) - w.begin();  // position: <s> is 0
  const Json edited = post("/api/explain", {{"run", "kw"}, {"text", text}, {"methods", "attention"},
                                            {"edits", {"zero:" + std::to_string(top - 1)}}});
  const auto& inst = edited["instances"][0];
  EXPECT_EQ(inst["probabilities"], plain["instances"][0]["probabilities"]);
  EXPECT_NE(inst["edited"]["probabilities"], inst["probabilities"]);
  EXPECT_EQ(inst["edited"]["attention"]["pooling"][top].get<double>(), 0.0);
  // An edit is never left behind on the model: the next plain request answers as before.
  EXPECT_EQ(stable(post("/api/explain", {{"run", "kw"}, {"text", text}, {"methods", "attention"}})).dump(),
            stable(plain).dump());
  // Predict with the edit equals the edited prediction of explain.
  const Json p = post("/api/predict", {{"run", "kw"}, {"texts", {text}}, {"edits", {"zero:" + std::to_string(top - 1)}}});
  const auto probs = inst["edited"]["probabilities"].get<std::vector<double>>();
  const auto labels = edited["labels"].get<std::vector<std::string>>();
  for (size_t c = 0; c < labels.size(); ++c) EXPECT_NEAR(p[0]["probabilities"][labels[c]].get<double>(), probs[c], 1e-6);
}

TEST_F(Server, RefusesBadRequestsClearly) {
  auto c = client();
  // Oversized body: 413 before any parsing.
  auto big = c.Post("/api/explain", std::string(100 * 1024, 'x'), "application/json");
  ASSERT_TRUE(big);
  EXPECT_EQ(big->status, 413);
  // Malformed JSON: 400 naming the body.
  auto bad = c.Post("/api/explain", "{\"run\": \"kw\", \"text\": ", "application/json");
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 400);
  Json j = Json::parse(bad->body);
  EXPECT_EQ(j["field"], "body");
  EXPECT_NE(j["error"].get<std::string>().find("malformed JSON"), std::string::npos);
  // Wrong types and values name the field.
  EXPECT_EQ(post("/api/explain", {{"run", "kw"}, {"texts", "not a list"}}, 400)["field"], "texts");
  EXPECT_EQ(post("/api/explain", {{"run", "kw"}, {"text", 3}}, 400)["field"], "text");
  EXPECT_EQ(post("/api/explain", {{"text", "good"}}, 400)["field"], "run");
  EXPECT_EQ(post("/api/explain", {{"run", "kw"}, {"text", "good"}, {"methods", "nope"}}, 400)["field"], "methods");
  EXPECT_EQ(post("/api/explain", {{"run", "kw"}, {"text", "good"}, {"edits", {"zero:x"}}}, 400)["field"], "edits");
  EXPECT_EQ(post("/api/explain", {{"run", "kw"}, {"text", "good"}, {"options", {{"steps", 0}}}}, 400)["field"], "options.steps");
  EXPECT_EQ(post("/api/explain", {{"run", "kw"}, {"text", "good"}, {"options", {{"stepz", 1}}}}, 400)["field"], "options.stepz");
  EXPECT_EQ(post("/api/explain", {{"run", "kw"}, {"text", "good"}, {"options", {{"tolerance", -1}}}}, 400)["field"], "options.tolerance");
  EXPECT_EQ(post("/api/explain", {{"run", "kw"}, {"text", "good"}, {"options", {{"max_steps", 2}}}}, 400)["field"], "options.max_steps");
  EXPECT_EQ(post("/api/explain", {{"run", "kw"}, {"text", "good"}, {"target", "maybe"}}, 400)["field"], "target");
  EXPECT_EQ(post("/api/explain", {{"run", "kw"}, {"text", "good"}, {"options", {{"removal", "nope"}}}}, 400)["field"], "options.removal");
  EXPECT_EQ(post("/api/explain", {{"run", "kw"}, {"text", "good"}, {"options", {{"baseline", 1}}}}, 400)["field"], "options.baseline");
  // Unknown run: 404 naming it.
  const Json unknown = post("/api/explain", {{"run", "elsewhere"}, {"text", "good"}}, 404);
  EXPECT_EQ(unknown["field"], "run");
  EXPECT_NE(unknown["error"].get<std::string>().find("elsewhere"), std::string::npos);
  EXPECT_EQ(c.Get("/api/runs/elsewhere")->status, 404);
  EXPECT_EQ(c.Get("/api/runs/kw/examples?split=nope")->status, 400);
  EXPECT_EQ(c.Get("/api/runs/kw/examples?limit=lots")->status, 400);
  EXPECT_EQ(c.Get("/api/explain")->status, 405);
  EXPECT_EQ(c.Get("/api/nothing")->status, 404);
}

TEST_F(Server, ServesOnlyTheWebRoot) {
  auto c = client();
  auto index = c.Get("/");
  ASSERT_TRUE(index);
  EXPECT_EQ(index->status, 200);
  EXPECT_NE(index->body.find("<script src=\"/assets/app.js\">"), std::string::npos);
  EXPECT_NE(index->get_header_value("Content-Security-Policy").find("script-src 'self'"), std::string::npos);
  EXPECT_EQ(c.Get("/assets/app.js")->status, 200);
  EXPECT_EQ(c.Get("/assets/app.js")->get_header_value("Content-Type").rfind("text/javascript", 0), 0u);
  for (const char* path : {"/../../../../etc/passwd", "/assets/../../etc/passwd", "/assets/%2e%2e/%2e%2e/etc/passwd",
                           "/assets/..%2f..%2fetc%2fpasswd", "/..\\..\\etc\\passwd"}) {
    auto r = c.Get(path);
    ASSERT_TRUE(r) << path;
    EXPECT_TRUE(r->status == 403 || r->status == 400 || r->status == 404) << path << " " << r->status;
    EXPECT_EQ(r->body.find("root:"), std::string::npos) << path;
  }
  EXPECT_EQ(c.Get("/assets/%2e%2e/%2e%2e/etc/passwd")->status, 403);
  EXPECT_EQ(c.Get("/etc/passwd")->status, 404);
}

TEST_F(Server, TokensWithMarkupComeBackAsJsonText) {
  const std::string text = "<script>alert(1)</script> <img src=x onerror=alert(2)> good";
  auto c = client();
  auto res = c.Post("/api/explain", Json{{"run", "kw"}, {"text", text}, {"methods", "attention"}}.dump(), "application/json");
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  EXPECT_EQ(res->get_header_value("Content-Type"), "application/json");
  EXPECT_EQ(res->get_header_value("X-Content-Type-Options"), "nosniff");
  const Json doc = Json::parse(res->body);
  std::string joined;
  for (const auto& t : doc["instances"][0]["tokens"]) joined += t.get<std::string>();
  EXPECT_NE(joined.find("script"), std::string::npos);
  EXPECT_NE(joined.find("<"), std::string::npos);  // kept as text; the page writes it with textContent
}

TEST_F(Server, ConcurrentEditedRequestsAnswerAsSequentialOnes) {
  const std::string text = "good acting but a boring and long plot with a fine end";
  std::vector<Json> requests;
  for (int i = 0; i < 8; ++i) {
    Json r = {{"run", "kw"}, {"text", text}, {"methods", "attention,saliency,loo,ig"}};
    if (i % 4 == 1) r["edits"] = {"zero:" + std::to_string(i)};
    if (i % 4 == 2) r["edits"] = {"uniform:pool"};
    if (i % 4 == 3) r["edits"] = {"pin:0,0,1"};
    requests.push_back(r);
  }
  std::vector<std::string> sequential;
  for (const auto& r : requests) sequential.push_back(stable(post("/api/explain", r)).dump());
  for (int round = 0; round < 3; ++round) {
    std::vector<std::string> concurrent(requests.size());
    std::vector<std::thread> threads;
    for (size_t i = 0; i < requests.size(); ++i)
      threads.emplace_back([&, i] { concurrent[i] = stable(post("/api/explain", requests[i])).dump(); });
    for (auto& t : threads) t.join();
    for (size_t i = 0; i < requests.size(); ++i) EXPECT_EQ(concurrent[i], sequential[i]) << "request " << i;
  }
}

TEST_F(Server, JobsReportProgressFinishAndCancel) {
  auto c = client();
  // A short job runs to the end: the split's first examples explained, as the CLI does.
  const Json submitted = post("/api/jobs", {{"kind", "explain"}, {"run", "kw"}, {"split", "test"}, {"limit", 5},
                                            {"methods", "attention,loo"}}, 202);
  const std::string url = submitted["url"];
  Json st = finished(url);
  ASSERT_EQ(st["state"], "done") << st.dump();
  EXPECT_EQ(st["progress"]["done"], 5);
  EXPECT_EQ(st["progress"]["total"], 5);
  ASSERT_EQ(st["result"]["instances"].size(), 5u);
  const auto r = test::run_lumen("--json explain --run " + dir_->file("kw") + " --data run --split test --limit 5 --methods attention,loo");
  ASSERT_EQ(r.code, 0) << r.output;
  const Json cli = Json::parse(r.output.substr(r.output.find('{')));
  for (size_t i = 0; i < 5; ++i) {
    EXPECT_EQ(st["result"]["instances"][i]["tokens"], cli["instances"][i]["tokens"]);
    EXPECT_EQ(st["result"]["instances"][i]["prediction"], cli["instances"][i]["prediction"]);
  }
  // A long job is cancelled while it runs.
  const Json longer = post("/api/jobs", {{"kind", "explain"}, {"run", "kw"}, {"split", "train"}, {"limit", 100000},
                                         {"methods", "ig,loo,lime"}}, 202);
  const std::string lurl = longer["url"];
  for (int i = 0; i < 600; ++i) {
    st = Json::parse(c.Get(lurl.c_str())->body);
    if (st["state"] == "running" && st["progress"]["done"].get<int64_t>() > 0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_EQ(st["state"], "running") << st.dump();
  EXPECT_GT(st["progress"]["total"].get<int64_t>(), st["progress"]["done"].get<int64_t>());
  auto del = c.Delete(lurl.c_str());
  ASSERT_TRUE(del);
  EXPECT_EQ(del->status, 200) << del->body;
  for (int i = 0; i < 600; ++i) {
    st = Json::parse(c.Get(lurl.c_str())->body);
    if (st["state"] != "running") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(st["state"], "cancelled") << st.dump();
  EXPECT_FALSE(st.contains("result"));
  // Finished jobs cannot be cancelled; unknown ones are 404; a bad kind names the field.
  EXPECT_EQ(c.Delete(url.c_str())->status, 409);
  EXPECT_EQ(c.Get("/api/jobs/job-999")->status, 404);
  EXPECT_EQ(post("/api/jobs", {{"kind", "train"}, {"run", "kw"}}, 400)["field"], "kind");
  EXPECT_EQ(Json::parse(c.Get("/api/jobs")->body)["jobs"].size(), 2u);
}

TEST_F(Server, FindsTheInstancesAnalysisRecord) {
  const std::string text = "the movie was good";
  Json a = post("/api/analysis", {{"run", "kw"}, {"text", text}});
  EXPECT_FALSE(a["found"].get<bool>());
  EXPECT_FALSE(a["available"].get<bool>());  // not analysed yet
  const auto r = test::run_lumen("-q analyze --run " + dir_->file("kw") + " --limit 5");
  ASSERT_EQ(r.code, 0) << r.output;
  // A fresh server (the analysis is read once per run pool) finds the analysed test examples.
  TearDown();
  SetUp();
  std::ifstream f(dir_->file("kw") + "/analysis/records.jsonl");
  std::string line;
  ASSERT_TRUE(std::getline(f, line));
  const Json record = Json::parse(line);
  std::string tokens;
  for (const auto& t : record["tokens"]) tokens += (tokens.empty() ? "" : " ") + t.get<std::string>();
  a = post("/api/analysis", {{"run", "kw"}, {"text", tokens}});
  ASSERT_TRUE(a["found"].get<bool>()) << a.dump();
  EXPECT_EQ(a["record"], record);
  EXPECT_EQ(a["split"], "test");
  EXPECT_TRUE(a["overall"].contains("kendall"));
  a = post("/api/analysis", {{"run", "kw"}, {"text", text}});
  EXPECT_FALSE(a["found"].get<bool>());
  EXPECT_TRUE(a["available"].get<bool>());
  EXPECT_EQ(post("/api/analysis", {{"run", "kw"}}, 400)["field"], "text");
}

int64_t resident_kib() {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::stoll(line.substr(6));
  return -1;
}

TEST_F(Server, ComposesTheNaturalLanguageExplanationAsTheCli) {
  const std::string text = "the movie was good and the cast was fine";
  const Json served = post("/api/nle", {{"run", "kw"}, {"text", text}});
  const auto r = test::run_lumen("--json nle --run " + dir_->file("kw") + " '" + text + "'");
  ASSERT_EQ(r.code, 0) << r.output;
  Json cli = Json::parse(r.output.substr(r.output.find('{')));
  EXPECT_EQ(served["run"], "kw");
  for (Json* d : {&cli, const_cast<Json*>(&served)}) {
    d->erase("run");
    (*d)["instance"].erase("source");
  }
  EXPECT_EQ(served.dump(), cli.dump());
  ASSERT_GE(served["claims"].size(), 2u);
  EXPECT_EQ(served["claims"][0]["kind"], "prediction");
  EXPECT_EQ(served["text"].get<std::string>().rfind("The model predicts", 0), 0u) << served["text"];
  // Every claim carries its evidence.
  for (const auto& c : served["claims"]) EXPECT_FALSE(c["evidence"].empty()) << c.dump();
  EXPECT_EQ(post("/api/nle", {{"run", "kw"}, {"texts", {"a", "b"}}}, 400)["field"], "texts");
  EXPECT_EQ(post("/api/nle", {{"run", "nope"}, {"text", text}}, 404)["field"], "run");
}

TEST_F(Server, AttacksATextAndFindsItsInfluence) {
  const std::string text = "the movie was good and the cast was great";
  const Json a = post("/api/attack", {{"run", "kw"}, {"text", text}, {"recipe", "textfooler"}});
  const std::string status = a["result"]["status"];
  EXPECT_TRUE(status == "succeeded" || status == "failed") << a.dump();
  EXPECT_EQ(a["verified"]["violations"], 0);
  if (status == "succeeded") {
    EXPECT_NE(a["result"]["perturbed"]["prediction"], a["result"]["original"]["prediction"]);
    EXPECT_GE(a["result"]["words_changed"].get<int64_t>(), 1);
  }
  EXPECT_EQ(post("/api/attack", {{"run", "kw"}, {"text", text}, {"recipe", "bae"}}, 400)["field"], "recipe");

  // No influence results yet: a hint; then the run's RUN/influence/influence.json is found by tokens
  // and cited by the natural-language explanation.
  Json i = post("/api/influence", {{"run", "kw"}, {"text", text}});
  EXPECT_FALSE(i["found"].get<bool>());
  EXPECT_NE(i["hint"].get<std::string>().find("lumen influence"), std::string::npos);
  const std::string dir = dir_->file("kw") + "/influence";
  std::filesystem::create_directories(dir);
  {
    std::ofstream f(dir + "/influence.json");
    f << Json{{"method", "tracin"},
              {"tests", {{{"test", 3}, {"text", text}, {"label_name", "positive"}, {"predicted_name", "positive"},
                          {"proponents", {{{"train", 5}, {"score", 2.5}, {"label_name", "positive"}, {"text", "good good"}}}},
                          {"opponents", {{{"train", 9}, {"score", -1.0}, {"label_name", "negative"}, {"text", "bad"}}}}}}}}
             .dump();
  }
  i = post("/api/influence", {{"run", "kw"}, {"text", "The movie was GOOD and the cast was great"}});  // tokenized as the run was
  EXPECT_TRUE(i["found"].get<bool>()) << i.dump();
  EXPECT_EQ(i["test"]["proponents"][0]["train"], 5);
  const Json n = post("/api/nle", {{"run", "kw"}, {"text", text}});
  int influence_claims = 0;
  for (const auto& c : n["claims"]) influence_claims += c["kind"] == "influence";
  EXPECT_EQ(influence_claims, 2) << n.dump();
  std::filesystem::remove_all(dir);
}

TEST_F(Server, AttackJobsReportProgressAndMatchTheCli) {
  const Json submitted = post("/api/jobs", {{"kind", "attack"}, {"run", "kw"}, {"split", "test"}, {"limit", 6}, {"recipe", "pwws"}}, 202);
  const std::string url = submitted["url"];
  const Json st = finished(url);
  ASSERT_EQ(st["state"], "done") << st.dump();
  EXPECT_EQ(st["progress"]["total"], 6);
  EXPECT_EQ(st["progress"]["done"], 6);
  ASSERT_EQ(st["result"]["results"].size(), 6u);
  EXPECT_EQ(st["result"]["summary"]["verification"]["violations"], 0);
  // The same attack from the CLI gives the same outcomes.
  const auto r = test::run_lumen("--json attack --run " + dir_->file("kw") + " --recipe pwws --split test --limit 6 --no-report --out " +
                                 dir_->file("attack-job-check"));
  ASSERT_EQ(r.code, 0) << r.output;
  std::ifstream f(dir_->file("attack-job-check") + "/attacks.jsonl");
  std::string line;
  for (size_t i = 0; i < 6 && std::getline(f, line); ++i) {
    const Json cli = Json::parse(line);
    EXPECT_EQ(st["result"]["results"][i]["status"], cli["status"]) << i;
    EXPECT_EQ(st["result"]["results"][i]["original"]["tokens"], cli["original"]["tokens"]) << i;
  }
  EXPECT_EQ(post("/api/jobs", {{"kind", "attack"}, {"run", "kw"}, {"recipe", "clare"}}, 400)["field"], "recipe");
  EXPECT_EQ(post("/api/jobs", {{"kind", "summarise"}, {"run", "kw"}}, 400)["field"], "kind");
}

// Numbers equal within `tol`, everything else exactly (two processes may batch differently).
void expect_close(const Json& a, const Json& b, const std::string& where, double tol = 1e-6) {
  if (a.is_number() && b.is_number()) {
    EXPECT_NEAR(a.get<double>(), b.get<double>(), tol) << where;
  } else if (a.is_object() && b.is_object()) {
    EXPECT_EQ(a.size(), b.size()) << where << ": " << a.dump() << " vs " << b.dump();
    for (const auto& [k, v] : a.items())
      if (b.contains(k)) expect_close(v, b[k], where + "." + k, tol);
      else ADD_FAILURE() << where << ": " << k << " missing";
  } else if (a.is_array() && b.is_array()) {
    ASSERT_EQ(a.size(), b.size()) << where;
    for (size_t i = 0; i < a.size(); ++i) expect_close(a[i], b[i], where + "[" + std::to_string(i) + "]", tol);
  } else {
    EXPECT_EQ(a, b) << where;
  }
}

TEST_F(Server, AnalyzeJobsMatchTheCliAndFeedTheAnalysisView) {
  const Json submitted = post("/api/jobs", {{"kind", "analyze"}, {"run", "kw"}, {"split", "test"}, {"limit", 5},
                                            {"permutations", 20}}, 202);
  const std::string url = submitted["url"];
  const Json st = finished(url);
  ASSERT_EQ(st["state"], "done") << st.dump();
  const Json& records = st["result"]["records"];
  ASSERT_EQ(records.size(), 5u);
  EXPECT_EQ(st["result"]["summary"]["split"], "test");
  ASSERT_EQ(records[0]["permutation"]["tvds"].size(), 20u);  // the whole permutation distribution
  // `lumen analyze` with the same options writes the same records.
  const auto r = test::run_lumen("-q analyze --run " + dir_->file("kw") + " --limit 5 --permutations 20 --no-report --out " +
                                 dir_->file("analysis-job-check"));
  ASSERT_EQ(r.code, 0) << r.output;
  std::ifstream f(dir_->file("analysis-job-check") + "/records.jsonl");
  std::string line;
  size_t lines = 0;
  for (; std::getline(f, line); ++lines) expect_close(records.at(lines), Json::parse(line), "record " + std::to_string(lines));
  EXPECT_EQ(lines, 5u);
  // The job's records answer the analysis view (held in memory, nothing written to the run).
  std::string tokens;
  for (const auto& t : records[2]["tokens"]) tokens += (tokens.empty() ? "" : " ") + t.get<std::string>();
  const Json a = post("/api/analysis", {{"run", "kw"}, {"text", tokens}});
  ASSERT_TRUE(a["found"].get<bool>()) << a.dump();
  EXPECT_EQ(a["record"], records[2]);
  EXPECT_EQ(a["split"], "test");
  // A long analysis is cancelled while it runs (its progress names the phase).
  auto c = client();
  const std::string lurl =
      post("/api/jobs", {{"kind", "analyze"}, {"run", "kw"}, {"split", "train"}, {"limit", 100000}, {"permutations", 1000}}, 202)["url"];
  Json lst;
  for (int i = 0; i < 3000; ++i) {
    lst = Json::parse(c.Get(lurl.c_str())->body);
    if (lst["state"] != "queued" && !(lst["state"] == "running" && lst["progress"]["done"].get<int64_t>() == 0)) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  ASSERT_EQ(lst["state"], "running") << lst.dump();
  EXPECT_FALSE(lst["progress"]["label"].get<std::string>().empty());
  ASSERT_EQ(c.Delete(lurl.c_str())->status, 200);
  EXPECT_EQ(finished(lurl)["state"], "cancelled");
  EXPECT_EQ(post("/api/jobs", {{"kind", "analyze"}, {"run", "kw"}, {"only", "gradient,attention"}}, 400)["field"], "only");
  EXPECT_EQ(post("/api/jobs", {{"kind", "analyze"}, {"run", "kw"}, {"permutations", 0}}, 400)["field"], "permutations");
}

TEST_F(Server, CounterfactualsAndEditorRecipesOnceTheRunHasAnEditor) {
  auto c = client();
  const std::string text = "the movie was good and the cast was great";
  Json cf = post("/api/counterfactual", {{"run", "kw"}, {"text", text}});
  EXPECT_FALSE(cf["available"].get<bool>());
  EXPECT_NE(cf["hint"].get<std::string>().find("lumen train-editor"), std::string::npos) << cf.dump();
  Json summary = Json::parse(c.Get("/api/runs/kw")->body);
  EXPECT_FALSE(summary["editor"].get<bool>());
  EXPECT_EQ(summary["recipes"].size(), 4u);
  EXPECT_EQ(post("/api/attack", {{"run", "kw"}, {"text", text}, {"recipe", "bae"}}, 400)["field"], "recipe");

  auto r = test::run_lumen("train-editor -q --run " + dir_->file("kw") + " --epochs 2 --model-dim 32 --embed-dim 32 --ff-dim 64 --layers 1");
  ASSERT_EQ(r.code, 0) << r.output;
  summary = Json::parse(c.Get("/api/runs/kw")->body);
  EXPECT_TRUE(summary["editor"].get<bool>());
  EXPECT_EQ(summary["recipes"].size(), 7u);
  for (const char* method : {"mice", "polyjuice"}) {
    cf = post("/api/counterfactual", {{"run", "kw"}, {"text", text}, {"method", method}});
    ASSERT_TRUE(cf["available"].get<bool>()) << cf.dump();
    EXPECT_EQ(cf["verification"]["violations"], 0);
    // The CLI's record of the same text.
    r = test::run_lumen("--json counterfactual --run " + dir_->file("kw") + " --method " + method + " '" + text + "'");
    ASSERT_EQ(r.code, 0) << r.output;
    Json cli = Json::parse(r.output.substr(r.output.find('{')))["results"][0];
    Json served = cf["result"];
    cli.erase("seconds");
    served.erase("seconds");
    expect_close(served, cli, method);
    if (served["flipped"].get<bool>())
      EXPECT_NE(served["counterfactuals"][0]["prediction"], served["original"]["prediction"]);
  }
  const Json a = post("/api/attack", {{"run", "kw"}, {"text", text}, {"recipe", "bae"}});
  EXPECT_EQ(a["verified"]["violations"], 0) << a.dump();
  EXPECT_EQ(post("/api/counterfactual", {{"run", "kw"}, {"text", text}, {"method", "rewrite"}}, 400)["field"], "method");
  EXPECT_EQ(post("/api/counterfactual", {{"run", "kw"}, {"text", text}, {"method", "polyjuice"}, {"codes", {"nonsense"}}}, 400)["field"], "codes");
  EXPECT_EQ(post("/api/counterfactual", {{"run", "kw"}, {"text", text}, {"target", "nope"}}, 400)["field"], "target");
}

TEST_F(Server, AThousandRequestsLeaveMemoryFlat) {
  auto c = client();
  const std::string body = Json{{"run", "kw"}, {"text", "a fine and good film"}, {"methods", "attention,saliency"},
                                {"edits", {"zero:1"}}}.dump();
  auto once = [&] {
    auto r = c.Post("/api/explain", body, "application/json");
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 200);
  };
  for (int i = 0; i < 100; ++i) once();  // warm: allocator pools, the threads' first use
  const int64_t before = resident_kib();
  for (int i = 0; i < 1000; ++i) once();
  const int64_t after = resident_kib();
  ASSERT_GT(before, 0);
  EXPECT_LE(after, before * 105 / 100) << "RSS " << before << " KiB -> " << after << " KiB";
}

}  // namespace
}  // namespace lumen::server
