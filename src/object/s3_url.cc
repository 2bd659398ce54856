// ParseS3Url: bucket URLs → S3Options (see s3.h). Pure function; thread-safe.
#include <cctype>
#include <string_view>

#include "object/s3.h"

namespace tessera::object {
namespace {

constexpr std::string_view kForms =
    "expected http(s)://host[:port]/bucket or https://bucket.s3.REGION.amazonaws.com";

Status Bad(const std::string& url, std::string_view why) {
  return Status::Invalid("invalid S3 URL '" + url + "': " + std::string(why) + "; " +
                         std::string(kForms));
}

bool ValidBucket(std::string_view b) {
  if (b.empty() || b.size() > 255) return false;
  for (unsigned char c : b) {
    if (!std::isalnum(c) && c != '-' && c != '.' && c != '_') return false;
  }
  return true;
}

// "s3.eu-west-1.amazonaws.com" → "eu-west-1"; also "s3-eu-west-1…" and the
// global "s3.amazonaws.com" (us-east-1). Empty when not an AWS S3 host.
std::string AwsRegion(std::string_view host) {
  constexpr std::string_view kSuffix = ".amazonaws.com";
  if (!host.ends_with(kSuffix)) return "";
  host.remove_suffix(kSuffix.size());
  if (host == "s3") return "us-east-1";
  if (host.starts_with("s3.") || host.starts_with("s3-")) {
    std::string_view region = host.substr(3);
    if (region.starts_with("dualstack.")) region.remove_prefix(10);
    if (!region.empty() && region.find('.') == std::string_view::npos) return std::string(region);
  }
  return "";
}

}  // namespace

Result<S3Options> ParseS3Url(const std::string& url) {
  std::string_view rest(url);
  std::string scheme;
  if (rest.starts_with("http://")) {
    scheme = "http";
  } else if (rest.starts_with("https://")) {
    scheme = "https";
  } else if (rest.find("://") != std::string_view::npos) {
    return Err(Bad(url, "the scheme must be http or https"));
  } else {
    return Err(Bad(url, "no scheme"));
  }
  rest.remove_prefix(scheme.size() + 3);
  if (rest.find_first_of("?#") != std::string_view::npos) {
    return Err(Bad(url, "a query or fragment is not allowed"));
  }
  size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  std::string_view path = slash == std::string_view::npos ? "" : rest.substr(slash + 1);
  if (authority.find('@') != std::string_view::npos) {
    return Err(
        Bad(url, "credentials do not belong in the URL (use the access/secret key options)"));
  }
  std::string_view host = authority;
  std::string port;
  if (size_t colon = authority.rfind(':');
      colon != std::string_view::npos && authority.find(']') == std::string_view::npos) {
    host = authority.substr(0, colon);
    port = std::string(authority.substr(colon + 1));
    bool digits = !port.empty() && port.size() <= 5;
    for (char c : port) digits = digits && std::isdigit(static_cast<unsigned char>(c));
    if (!digits || std::stoi(port) < 1 || std::stoi(port) > 65535) {
      return Err(Bad(url, "bad port '" + port + "'"));
    }
  }
  if (host.empty()) return Err(Bad(url, "no host"));
  if (path.ends_with('/')) path.remove_suffix(1);
  if (path.find('/') != std::string_view::npos) {
    return Err(Bad(url, "extra path after the bucket name '" +
                            std::string(path.substr(0, path.find('/'))) + "'"));
  }

  S3Options opts;
  if (path.empty()) {
    // Virtual-hosted: BUCKET.s3.REGION.amazonaws.com.
    size_t dot = host.find(".s3");
    std::string region = dot == std::string_view::npos ? "" : AwsRegion(host.substr(dot + 1));
    if (region.empty()) return Err(Bad(url, "no bucket name"));
    opts.bucket = std::string(host.substr(0, dot));
    opts.region = region;
    opts.virtual_hosted = true;
    host = host.substr(dot + 1);
  } else {
    opts.bucket = std::string(path);
    if (std::string region = AwsRegion(host); !region.empty()) opts.region = region;
  }
  if (!ValidBucket(opts.bucket)) return Err(Bad(url, "bad bucket name '" + opts.bucket + "'"));
  opts.endpoint = scheme + "://" + std::string(host) + (port.empty() ? "" : ":" + port);
  return opts;
}

}  // namespace tessera::object
