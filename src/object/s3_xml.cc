// S3 XML bodies and error mapping (see s3_xml.h). Pure functions; thread-safe.
#include "object/s3_xml.h"

#include <tinyxml2.h>

#include <cstdio>
#include <ctime>

namespace tessera::object::s3 {
namespace {

std::string ChildText(const tinyxml2::XMLElement* parent, const char* name) {
  const tinyxml2::XMLElement* e = parent->FirstChildElement(name);
  if (e == nullptr || e->GetText() == nullptr) return "";
  return e->GetText();
}

bool Parse(tinyxml2::XMLDocument& doc, std::string_view body) {
  return doc.Parse(body.data(), body.size()) == tinyxml2::XML_SUCCESS &&
         doc.RootElement() != nullptr;
}

std::string Excerpt(std::string_view body) {
  constexpr size_t kMax = 200;
  std::string out(body.substr(0, kMax));
  if (body.size() > kMax) out += "…";
  return out;
}

}  // namespace

ErrorBody ParseErrorBody(std::string_view body) {
  ErrorBody out;
  if (body.empty()) return out;
  tinyxml2::XMLDocument doc;
  if (!Parse(doc, body)) return out;
  const tinyxml2::XMLElement* root = doc.RootElement();
  if (std::string_view(root->Name()) != "Error") return out;
  out.code = ChildText(root, "Code");
  out.message = ChildText(root, "Message");
  return out;
}

Code CodeFor(long http_status, std::string_view s3_code) {
  if (s3_code == "SlowDown" || s3_code == "RequestTimeout" || s3_code == "InternalError" ||
      s3_code == "ServiceUnavailable" || s3_code == "OperationAborted") {
    return Code::kUnavailable;
  }
  if (s3_code == "InvalidAccessKeyId" || s3_code == "SignatureDoesNotMatch" ||
      s3_code == "AccessDenied" || s3_code == "RequestTimeTooSkewed" || http_status == 403 ||
      http_status == 401) {
    return Code::kAccess;
  }
  if (s3_code == "NoSuchKey" || s3_code == "NoSuchBucket" || s3_code == "NoSuchUpload" ||
      http_status == 404) {
    return Code::kNotFound;
  }
  if (http_status == 429 || http_status == 500 || http_status == 502 || http_status == 503 ||
      http_status == 504) {
    return Code::kUnavailable;
  }
  return Code::kIO;
}

Status ErrorStatus(std::string_view what, long http_status, std::string_view reason,
                   std::string_view body) {
  ErrorBody err = ParseErrorBody(body);
  std::string msg = std::string(what) + ": " + std::to_string(http_status);
  if (!err.code.empty()) {
    msg += " " + err.code;
    if (!err.message.empty()) msg += ": " + err.message;
  } else {
    if (!reason.empty()) msg += " " + std::string(reason);
    if (!body.empty()) msg += ": " + Excerpt(body);
  }
  return Status(CodeFor(http_status, err.code), std::move(msg));
}

Result<ListPage> ParseListObjectsV2(std::string_view body) {
  tinyxml2::XMLDocument doc;
  if (!Parse(doc, body) || std::string_view(doc.RootElement()->Name()) != "ListBucketResult") {
    return Err(Code::kIO, "malformed ListObjectsV2 answer: " + Excerpt(body));
  }
  const tinyxml2::XMLElement* root = doc.RootElement();
  ListPage page;
  page.truncated = ChildText(root, "IsTruncated") == "true";
  for (const tinyxml2::XMLElement* c = root->FirstChildElement("Contents"); c != nullptr;
       c = c->NextSiblingElement("Contents")) {
    ObjectInfo info;
    info.key = ChildText(c, "Key");
    std::string size = ChildText(c, "Size");
    char* end = nullptr;
    info.size = std::strtoull(size.c_str(), &end, 10);
    if (info.key.empty() || size.empty() || *end != '\0') {
      return Err(Code::kIO, "malformed <Contents> in ListObjectsV2 answer: " + Excerpt(body));
    }
    info.mtime = ParseIso8601(ChildText(c, "LastModified"));
    page.objects.push_back(std::move(info));
  }
  return page;
}

Result<std::string> ParseUploadId(std::string_view body) {
  tinyxml2::XMLDocument doc;
  if (Parse(doc, body)) {
    std::string id = ChildText(doc.RootElement(), "UploadId");
    if (!id.empty()) return id;
  }
  return Err(Code::kIO, "no UploadId in CreateMultipartUpload answer: " + Excerpt(body));
}

std::string CompleteMultipartBody(const std::vector<std::string>& etags) {
  std::string out = "<CompleteMultipartUpload>";
  for (size_t i = 0; i < etags.size(); ++i) {
    out += "<Part><PartNumber>" + std::to_string(i + 1) + "</PartNumber><ETag>";
    for (char c : etags[i]) {
      switch (c) {
        case '&':
          out += "&amp;";
          break;
        case '<':
          out += "&lt;";
          break;
        case '>':
          out += "&gt;";
          break;
        default:
          out.push_back(c);
      }
    }
    out += "</ETag></Part>";
  }
  return out + "</CompleteMultipartUpload>";
}

int64_t ParseIso8601(std::string_view s) {
  std::string str(s);
  std::tm tm{};
  int n = 0;
  if (std::sscanf(str.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                  &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &n) != 6) {
    return -1;
  }
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return static_cast<int64_t>(timegm(&tm));
}

}  // namespace tessera::object::s3
