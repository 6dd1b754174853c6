// The HTTP API of `lumen serve` without the HTTP (docs/api.md): requests as method, path,
// query parameters and body; answers as a status and a JSON body. The explain and predict
// answers are the JSON of `lumen explain --json` and `lumen predict --json`. Every request
// works on a leased model replica (app::RunPool) with its attention edits passed per call, so
// concurrent requests share no state.
#pragma once
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "app/run_pool.h"
#include "core/json.h"
#include "server/jobs.h"

namespace lumen::server {

struct ApiResponse {
  int status = 200;
  Json body;
};

// What a request may ask for at most (a served explanation must stay interactive).
struct ApiLimits {
  int64_t max_texts = 64;          // texts per predict request
  int64_t max_text_chars = 100000; // characters per text
  int64_t max_steps = 1000;        // ig / att_attr path steps
  int64_t max_samples = 5000;      // lime / kernel_shap / smoothgrad samples
  int64_t max_edits = 64;
  void validate() const;
  Json to_json() const;
};

class Api {
 public:
  // `runs`: the served runs, by their names (unique; checked).
  Api(std::vector<std::shared_ptr<app::RunPool>> runs, ApiLimits limits = {});
  // Routes /api/...: GET runs, GET runs/NAME, GET runs/NAME/examples?split=&q=&offset=&limit=,
  // POST explain, POST predict, POST analysis (the instance's `lumen analyze` record), POST nle (its natural-language explanation), POST jobs (a split's explanations in the background), GET
  // jobs, GET jobs/ID (progress; the result when done), DELETE jobs/ID (cancel). Never throws:
  // errors are {"error", "field"?} with 400 (bad request, naming the field), 404 (unknown run,
  // job or path), 405 (wrong method), 409 (cancelling a finished job), 500.
  ApiResponse handle(const std::string& method, const std::string& path,
                     const std::multimap<std::string, std::string>& params, const std::string& body) const;
  const std::vector<std::shared_ptr<app::RunPool>>& runs() const { return runs_; }

 private:
  std::vector<std::shared_ptr<app::RunPool>> runs_;
  ApiLimits limits_;
  std::shared_ptr<JobQueue> jobs_;
  // The served run named `name`; a 404 request error otherwise.
  std::shared_ptr<app::RunPool> run(const std::string& name) const;
  ApiResponse explain(const Json& request) const;
  ApiResponse predict(const Json& request) const;
  ApiResponse submit_job(const Json& request) const;
  ApiResponse analysis(const Json& request) const;
  // The composed natural-language explanation of one text (app::compose_nle).
  ApiResponse nle(const Json& request) const;
  // An adversarial example of one text (app::attack_text) and its influential training
  // examples (app::find_influence).
  ApiResponse attack(const Json& request) const;
  ApiResponse influence(const Json& request) const;
  ApiResponse counterfactual(const Json& request) const;
};

}  // namespace lumen::server
