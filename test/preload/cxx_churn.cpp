// cxx_churn.cpp: built and run by cxx_threads.sh. 8 std::threads churn
// std::string, std::map, std::vector and std::unordered_map (operator new
// and delete go to malloc and free), hand strings between threads through
// a mutex-guarded queue, and fold everything into a checksum that depends
// only on the data, never on addresses or timing.
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

static uint64_t mix(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

static uint64_t hash_str(const std::string &s)
{
    uint64_t h = 1469598103934665603ull;
    for (unsigned char c : s)
        h = (h ^ c) * 1099511628211ull;
    return h;
}

static std::mutex qlock;
static std::deque<std::unique_ptr<std::string>> queue;
static std::atomic<uint64_t> handed_sum{0};

static int rounds = 30;

static uint64_t work(int id)
{
    uint64_t rng = 1000 + id, sum = 0;
    std::map<std::string, std::string> m;
    std::unordered_map<uint64_t, std::vector<int>> um;
    for (int round = 0; round < rounds; round++) {
        for (int i = 0; i < 2000; i++) {
            rng = mix(rng);
            std::string key = "k" + std::to_string(rng % 5000);
            std::string val(rng % 300 + 1, char('a' + rng % 26));
            if (rng % 97 == 0)
                val.append(size_t(rng % 200000), 'x'); // some large strings
            m[key] = val;
            um[rng % 3000].assign(size_t(rng % 64), int(rng % 1000));
            if (rng % 5 == 0)
                m.erase("k" + std::to_string((rng >> 20) % 5000));
            if (rng % 7 == 0) {
                auto s = std::make_unique<std::string>(val + key);
                handed_sum += hash_str(*s);
                std::lock_guard<std::mutex> g(qlock);
                queue.push_back(std::move(s));
            }
            if (rng % 7 == 3) {
                std::unique_ptr<std::string> s;
                {
                    std::lock_guard<std::mutex> g(qlock);
                    if (!queue.empty()) {
                        s = std::move(queue.front());
                        queue.pop_front();
                    }
                }
                if (s)
                    handed_sum -= hash_str(*s); // freed by this thread
            }
        }
        for (auto &kv : m)
            sum += hash_str(kv.first) * 31 + hash_str(kv.second);
        for (auto &kv : um)
            sum += kv.first * 7 + kv.second.size();
    }
    return sum;
}

int main(int argc, char **argv)
{
    if (argc > 1)
        rounds = std::atoi(argv[1]);
    std::vector<std::thread> t;
    std::vector<uint64_t> res(8);
    for (int i = 0; i < 8; i++)
        t.emplace_back([i, &res] { res[i] = work(i); });
    for (auto &th : t)
        th.join();
    uint64_t total = 0;
    for (uint64_t r : res)
        total = mix(total ^ r);
    for (auto &s : queue)
        handed_sum -= hash_str(*s);
    queue.clear();
    std::printf("checksum %016llx handed %llu\n", (unsigned long long)total,
                (unsigned long long)handed_sum.load());
    return handed_sum.load() == 0 ? 0 : 1;
}
