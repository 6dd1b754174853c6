// Readers of the formats users bring. Each returns tagged examples (split -1 when the source
// has none); load_dataset() then splits and maps labels. Errors name file and line.
#pragma once
#include <vector>

#include "data/example.h"
#include "data/spec.h"

namespace lumen::data {

struct TaggedExample {
  Example example;
  // Split index (0 train, 1 dev, 2 test) or -1 when the source does not say.
  int split = -1;
};

struct ReadResult {
  std::vector<TaggedExample> examples;
  bool pair = false;
  // Fixed label order when the format defines one (SST, AG News); empty: sorted names.
  std::vector<std::string> label_names;
};

ReadResult read_csv(const DataSpec& spec, char delimiter);
ReadResult read_jsonl(const DataSpec& spec);
ReadResult read_sst(const DataSpec& spec);
ReadResult read_imdb(const DataSpec& spec);
ReadResult read_agnews(const DataSpec& spec);
ReadResult read_20ng(const DataSpec& spec);
ReadResult read_snli(const DataSpec& spec);
ReadResult read_babi(const DataSpec& spec);
ReadResult read_spamassassin(const DataSpec& spec);
ReadResult read_synthetic_keywords(const DataSpec& spec);
ReadResult read_synthetic_where(const DataSpec& spec);

// Where the bundled SpamAssassin corpus lies: $LUMEN_SPAMASSASSIN_DIR, else data/vendor under
// the working directory, else under the source tree. Throws IoError with the install hint.
std::string spamassassin_dir();

// Shared helpers.
int split_of(const std::string& name, const std::string& where);
std::vector<std::string> list_files(const std::string& dir, const std::string& suffix);
std::string strip_html(const std::string& s);

}  // namespace lumen::data
