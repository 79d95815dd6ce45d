#include "telemetry/attribute_key.h"

#include <ostream>

namespace lantern::telemetry {

std::ostream& operator<<(std::ostream& out, const AttributeKey& key) { return out << key.view(); }

}  // namespace lantern::telemetry
