// diff_profiles (profile/diff.hpp).
#include "truthound/profile/diff.hpp"

#include <unordered_set>

#include "truthound/util/json.hpp"

namespace truthound {

std::string diff_profiles(const PartialProfile& base, const PartialProfile& current) {
  JsonWriter w;
  w.begin_object();
  w.field("base_rows", base.row_count());
  w.field("current_rows", current.row_count());
  std::unordered_set<std::string> in_base, in_current;
  for (const auto& c : base.columns()) in_base.insert(c.name());
  for (const auto& c : current.columns()) in_current.insert(c.name());
  w.key("added_columns").begin_array();
  for (const auto& c : current.columns()) {
    if (!in_base.contains(c.name())) w.string(c.name());
  }
  w.end_array();
  w.key("removed_columns").begin_array();
  for (const auto& c : base.columns()) {
    if (!in_current.contains(c.name())) w.string(c.name());
  }
  w.end_array();
  w.key("columns").begin_array();
  for (const auto& c : base.columns()) {
    if (const ColumnState* other = current.find_column(c.name())) {
      c.diff(w, *other, base.options());
    }
  }
  w.end_array();
  w.end_object();
  return w.take();
}

}  // namespace truthound
