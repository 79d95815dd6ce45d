#include "base/mapped_file.h"

#include <gtest/gtest.h>

#include <fstream>

namespace lantern {
namespace {

TEST(MappedFileTest, MapsContents) {
  auto path = std::filesystem::temp_directory_path() / "lantern_mapped_file_test.bin";
  {
    std::ofstream out(path, std::ios::binary);
    out << "hello";
  }
  auto file = MappedFile::Open(path);
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  ASSERT_EQ(file->size(), 5u);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(file->data()), 5), "hello");
  std::filesystem::remove(path);
}

TEST(MappedFileTest, MissingFileIsNotFound) {
  auto file = MappedFile::Open("/nonexistent/lantern/file");
  ASSERT_FALSE(file.ok());
  EXPECT_EQ(file.status().code(), StatusCode::kNotFound);
  EXPECT_NE(file.status().message().find("/nonexistent/lantern/file"), std::string::npos);
}

}  // namespace
}  // namespace lantern
