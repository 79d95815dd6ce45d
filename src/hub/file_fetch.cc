#include "hub/file_fetch.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <thread>

#include "base/log.h"
#include "hub/file_lock.h"
#include "hub/sha256.h"

namespace lantern::hub {
namespace fs = std::filesystem;

namespace {

constexpr int kMaxTransferFailures = 5;

int64_t SizeOf(const fs::path& path) {
  std::error_code ec;
  auto size = fs::file_size(path, ec);  // follows a snapshot's symlink to its blob
  return ec ? -1 : static_cast<int64_t>(size);
}

bool Whole(const fs::path& path, int64_t expected) {
  int64_t size = SizeOf(path);
  return size >= 0 && (expected < 0 || size == expected);
}

void SayWaiting(const fs::path& lock) {
  LANTERN_LOG(kInfo, "hub") << "waiting for another process downloading the same file (lock "
                            << lock.string() << ")";
}

// Hashes what a resumed file already holds.
Status HashPrefix(const fs::path& path, Sha256& hasher) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Internal("cannot read " + path.string());
  std::string buffer(1 << 20, '\0');
  while (in) {
    in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    hasher.Update(std::string_view(buffer.data(), static_cast<size_t>(in.gcount())));
  }
  return Status::Ok();
}

Status WriteAll(int fd, std::string_view bytes, const fs::path& path, const RepoCache& cache) {
  while (!bytes.empty()) {
    ssize_t n = write(fd, bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      if (errno == ENOSPC || errno == EDQUOT) {
        return ResourceExhausted("disk full while writing " + path.string() +
                                 ": free some space, or put the cache on another disk with "
                                 "HF_HUB_CACHE or --download-dir (cache: " +
                                 cache.cache_dir().string() + ")");
      }
      return Internal("cannot write " + path.string() + ": " + std::strerror(errno));
    }
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return Status::Ok();
}

// The Hub names the blob and the commit it serves; both must be what the listing said.
Status CheckHubHeaders(const Headers& first, const FetchContext& context, const RepoFile& file) {
  auto header = [&first](const char* name) {
    auto it = first.find(name);
    return it == first.end() ? std::string() : it->second;
  };
  std::string etag = header("x-linked-etag");
  if (etag.empty()) etag = header("etag");
  if (etag.rfind("W/", 0) == 0) etag = etag.substr(2);
  if (etag.size() >= 2 && etag.front() == '"' && etag.back() == '"')
    etag = etag.substr(1, etag.size() - 2);
  std::string commit = header("x-repo-commit");
  if ((!etag.empty() && etag != file.etag()) || (!commit.empty() && commit != context.commit)) {
    return DataLoss("the Hub serves " + file.path + " as blob '" + etag + "' of commit '" + commit +
                    "', but listed blob '" + file.etag() + "' of commit '" + context.commit +
                    "': the repo changed while downloading; run again");
  }
  return Status::Ok();
}

}  // namespace

bool InSnapshot(const RepoCache& cache, const std::string& commit, const RepoFile& file) {
  return Whole(cache.Snapshot(commit) / file.path, file.size);
}

Result<int64_t> FetchFile(const FetchContext& context, const RepoFile& file) {
  const RepoCache& cache = *context.cache;
  if (InSnapshot(cache, context.commit, file)) return int64_t{0};
  const std::string& etag = file.etag();
  if (etag.empty() || !IsSafeRepoPath(etag) || etag.find('/') != std::string::npos) {
    return DataLoss("the Hub listed " + file.path + " without a usable blob id");
  }
  const fs::path blob = cache.Blob(etag);
  std::error_code ec;
  fs::create_directories(blob.parent_path(), ec);
  LANTERN_ASSIGN_OR_RETURN(FileLock lock, FileLock::Acquire(cache.Lock(etag), SayWaiting));
  if (Whole(blob, file.size)) {  // fetched by another process or for another snapshot
    LANTERN_RETURN_IF_ERROR(cache.Link(context.commit, file.path, etag));
    return int64_t{0};
  }
  const fs::path partial = fs::path(blob.string() + ".incomplete");
  int transfer_failures = 0;
  int checksum_failures = 0;
  int64_t fetched = 0;
  while (true) {
    int64_t offset = std::max<int64_t>(SizeOf(partial), 0);
    if (file.size >= 0 && offset > file.size) {
      fs::remove(partial, ec);
      offset = 0;
    }
    Sha256 hasher;
    if (file.lfs() && offset > 0) LANTERN_RETURN_IF_ERROR(HashPrefix(partial, hasher));
    int fd = open(partial.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) return Internal("cannot create " + partial.string() + ": " + std::strerror(errno));
    int64_t on_disk = offset;
    Status transfer;
    long status = 200;
    if (file.size < 0 || offset < file.size) {
      HttpRequest request;
      request.url = ResolveUrl(*context.target, context.commit, file.path);
      request.token = context.target->env->token;
      request.auth_origin = OriginOf(context.target->env->endpoint);
      request.range_start = offset;
      request.connect_timeout_s = context.target->env->etag_timeout_s;
      request.stall_timeout_s = context.target->env->download_timeout_s;
      request.user_agent = context.target->user_agent;
      request.cancel = context.cancel;
      bool first_piece = true;
      auto response = context.http->Get(
          request, [&](long code, const Headers& headers, std::string_view piece) -> Status {
            if (first_piece) {
              first_piece = false;
              if (code == 200 && on_disk > 0) {  // the Range was ignored: start over
                if (ftruncate(fd, 0) != 0) return Internal("cannot truncate " + partial.string());
                hasher.Reset();
                on_disk = 0;
              } else if (code == 206 && headers.count("content-range") &&
                         headers.at("content-range")
                                 .rfind("bytes " + std::to_string(on_disk) + "-", 0) != 0) {
                return DataLoss("the server resumed " + file.path + " at the wrong offset");
              }
            }
            LANTERN_RETURN_IF_ERROR(WriteAll(fd, piece, partial, cache));
            if (file.lfs()) hasher.Update(piece);
            on_disk += static_cast<int64_t>(piece.size());
            fetched += static_cast<int64_t>(piece.size());
            if (context.progress) context.progress->Update(file.path, on_disk, file.size);
            return Status::Ok();
          });
      if (response.ok()) {
        status = response->status;
        if (status == 200 || status == 206)
          transfer = CheckHubHeaders(response->first, context, file);
      } else {
        transfer = response.status();
      }
      if (transfer.ok() && status != 200 && status != 206) {
        if (status == 416) {
          transfer = Status(StatusCode::kAborted, "HTTP 416 for a resumed download");
          fs::remove(partial, ec);
        } else if (status == 429 || status >= 500) {
          transfer = Status(StatusCode::kAborted, "HTTP " + std::to_string(status));
        } else {
          close(fd);
          return HubError(*response, *context.target, "the file " + file.path);
        }
      }
    }
    if (transfer.ok() && file.size >= 0 && on_disk != file.size) {
      transfer = Status(StatusCode::kAborted, "got " + std::to_string(on_disk) + " of " +
                                                  std::to_string(file.size) + " bytes");
    }
    if (transfer.ok() && fdatasync(fd) != 0) {
      transfer = Internal("cannot flush " + partial.string() + ": " + std::strerror(errno));
    }
    close(fd);
    const bool cancelled = context.cancel && context.cancel->load();
    if (!transfer.ok()) {
      const bool retry = (transfer.code() == StatusCode::kAborted ||
                          transfer.code() == StatusCode::kUnavailable) &&
                         !cancelled;
      if (!retry) return transfer;
      if (++transfer_failures >= kMaxTransferFailures) {
        if (transfer.code() == StatusCode::kUnavailable) {
          return UnreachableError(*context.target, transfer.message());
        }
        return Unavailable(
            "the download of " + file.path + " failed " + std::to_string(transfer_failures) +
            " times (last: " + Redact(transfer.message(), context.target->env->token) +
            "); run again to resume it from the " +
            std::to_string(std::max<int64_t>(SizeOf(partial), 0)) + " bytes kept");
      }
      LANTERN_LOG(kWarning, "hub")
          << "download of " << file.path << " broke off at " << on_disk << " of " << file.size
          << " bytes (" << transfer.message() << "); resuming";
      std::this_thread::sleep_for(std::chrono::milliseconds(200 * transfer_failures));
      continue;
    }
    if (file.lfs()) {
      std::string digest = hasher.HexDigest();
      if (digest != file.sha256) {
        fs::remove(partial, ec);
        if (++checksum_failures >= 2) {
          return DataLoss("sha256 of " + file.path + " is " + digest + ", the Hub lists " +
                          file.sha256 +
                          ", again after fetching it once more: the file was "
                          "removed; something between here and " +
                          context.target->env->endpoint +
                          " alters it (a proxy?), or the Hub's copy is damaged");
        }
        LANTERN_LOG(kWarning, "hub")
            << "sha256 of " << file.path << " does not match the Hub's (" << digest
            << " != " << file.sha256 << "): removed, fetching it once more";
        continue;
      }
    }
    fs::rename(partial, blob, ec);
    if (ec) return Internal("cannot move " + partial.string() + " into place: " + ec.message());
    LANTERN_RETURN_IF_ERROR(cache.Link(context.commit, file.path, etag));
    if (context.progress) context.progress->Done(file.path, on_disk);
    return fetched;
  }
}

}  // namespace lantern::hub
