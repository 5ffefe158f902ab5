#include "shared/md5.hpp"

#include <openssl/evp.h>

#include <cstdlib>
#include <memory>

namespace l2tp::wire {

Md5Digest md5(std::initializer_list<std::span<const uint8_t>> parts) {
  struct CtxFree {
    void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
  };
  std::unique_ptr<EVP_MD_CTX, CtxFree> ctx(EVP_MD_CTX_new());
  Md5Digest out{};
  unsigned int len = 0;
  // These fail only on allocation failure or with MD5 disabled by a FIPS-only
  // provider configuration: both make tunnel authentication impossible, and
  // returning a wrong digest silently would be worse than stopping.
  if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_md5(), nullptr) != 1) std::abort();
  for (auto p : parts)
    if (!p.empty() && EVP_DigestUpdate(ctx.get(), p.data(), p.size()) != 1) std::abort();
  if (EVP_DigestFinal_ex(ctx.get(), out.data(), &len) != 1 || len != out.size()) std::abort();
  return out;
}

}  // namespace l2tp::wire
