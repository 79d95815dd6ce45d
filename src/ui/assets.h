// The viewer's page (HTML, CSS, JS under src/ui/assets/), compiled into the binary by
// embed_assets.cmake: nothing to install beside lantern, nothing fetched from a CDN.
#pragma once

#include <span>
#include <string_view>

namespace lantern::ui {

struct EmbeddedAsset {
  std::string_view name;  // file name under assets/ ("index.html")
  std::string_view data;
};

std::span<const EmbeddedAsset> EmbeddedAssets();

// The asset named `name`, or null.
const EmbeddedAsset* FindAsset(std::string_view name);

// "text/html; charset=utf-8" etc. from the name's extension.
std::string_view AssetContentType(std::string_view name);

}  // namespace lantern::ui
