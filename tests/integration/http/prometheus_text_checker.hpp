// A strict checker of the Prometheus text exposition format 0.0.4 for the tests: every
// line is a HELP, TYPE, comment or sample line of the documented grammar; a family's TYPE
// comes before its samples, which are contiguous; no series appears twice; each series of
// a histogram (its labels other than le) has buckets in increasing le order with
// cumulative counts, ending in le="+Inf" equal to its _count, plus a _sum. A family may
// have no samples at all (a histogram of queues when there is no queue yet).
#pragma once

#include <cmath>
#include <cstdlib>
#include <map>
#include <regex>
#include <set>
#include <string>
#include <vector>

namespace artistsaid::test {

struct PrometheusSample {
    std::string name;
    std::map<std::string, std::string> labels;
    double value = 0;
};

/// Problems found (empty: valid); `samples` receives every sample parsed.
inline std::vector<std::string> check_prometheus_text(const std::string& text,
                                                      std::vector<PrometheusSample>* samples = nullptr) {
    std::vector<std::string> problems;
    if (text.empty() || text.back() != '\n') problems.push_back("the text must end with a newline");
    static const std::regex metric_name("[a-zA-Z_:][a-zA-Z0-9_:]*");
    static const std::regex label_name("[a-zA-Z_][a-zA-Z0-9_]*");
    std::map<std::string, std::string> types;  // family → type
    std::set<std::string> helped, finished_families, series;
    std::string current_family;
    // Histogram series: family + labels other than le → (le, n) in order, _count, _sum.
    std::map<std::string, std::vector<std::pair<double, double>>> buckets;
    std::map<std::string, double> counts;
    std::map<std::string, bool> sums;
    auto series_of = [](const std::string& family, std::map<std::string, std::string> labels) {
        labels.erase("le");
        std::string key = family + "{";
        for (const auto& [k, v] : labels) key += k + "=\"" + v + "\",";
        return key + "}";
    };
    std::size_t start = 0;
    int line_no = 0;
    auto family_of = [&](const std::string& name) {
        for (const char* suffix : {"_bucket", "_sum", "_count", "_total"}) {
            std::string s(suffix);
            if (name.size() > s.size() && name.compare(name.size() - s.size(), s.size(), s) == 0) {
                std::string base = name.substr(0, name.size() - s.size());
                if (types.count(base)) return base;
            }
        }
        return name;
    };
    auto parse_value = [](const std::string& v, double& out) {
        if (v == "+Inf") { out = INFINITY; return true; }
        if (v == "-Inf") { out = -INFINITY; return true; }
        if (v == "NaN") { out = NAN; return true; }
        if (v.empty()) return false;
        char* end = nullptr;
        out = std::strtod(v.c_str(), &end);
        return end == v.c_str() + v.size();
    };
    while (start < text.size()) {
        auto nl = text.find('\n', start);
        if (nl == std::string::npos) nl = text.size();
        std::string line = text.substr(start, nl - start);
        start = nl + 1;
        ++line_no;
        auto bad = [&](const std::string& why) {
            problems.push_back("line " + std::to_string(line_no) + ": " + why + ": " + line);
        };
        if (line.empty()) { bad("empty line"); continue; }
        if (line[0] == '#') {
            std::smatch m;
            static const std::regex help("# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)");
            static const std::regex type("# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)");
            if (std::regex_match(line, m, help)) {
                if (!helped.insert(m[1]).second) bad("second HELP");
            } else if (std::regex_match(line, m, type)) {
                if (types.count(m[1])) bad("second TYPE");
                if (series.count(m[1].str() + "{}") || finished_families.count(m[1])) bad("TYPE after samples");
                types[m[1]] = m[2];
            } else if (line.rfind("# HELP", 0) == 0 || line.rfind("# TYPE", 0) == 0) {
                bad("malformed HELP/TYPE");
            }
            continue;
        }
        // name{labels} value
        std::size_t i = 0;
        while (i < line.size() && line[i] != '{' && line[i] != ' ') ++i;
        PrometheusSample s;
        s.name = line.substr(0, i);
        if (!std::regex_match(s.name, metric_name)) { bad("bad metric name"); continue; }
        if (i < line.size() && line[i] == '{') {
            ++i;
            bool ok = true;
            while (ok && i < line.size() && line[i] != '}') {
                std::size_t eq = line.find('=', i);
                if (eq == std::string::npos) { ok = false; break; }
                std::string lname = line.substr(i, eq - i);
                if (!std::regex_match(lname, label_name) || eq + 1 >= line.size() || line[eq + 1] != '"') { ok = false; break; }
                std::string value;
                std::size_t j = eq + 2;
                for (; j < line.size() && line[j] != '"'; ++j) {
                    if (line[j] == '\\') {
                        if (j + 1 >= line.size()) { ok = false; break; }
                        char e = line[++j];
                        if (e == 'n') value += '\n';
                        else if (e == '\\' || e == '"') value += e;
                        else { ok = false; break; }
                    } else {
                        value += line[j];
                    }
                }
                if (!ok || j >= line.size()) { ok = false; break; }
                if (s.labels.count(lname)) { ok = false; break; }
                s.labels[lname] = value;
                i = j + 1;
                if (i < line.size() && line[i] == ',') ++i;
                else if (i < line.size() && line[i] != '}') { ok = false; break; }
            }
            if (!ok || i >= line.size() || line[i] != '}') { bad("malformed labels"); continue; }
            ++i;
        }
        if (i >= line.size() || line[i] != ' ') { bad("no value"); continue; }
        std::string rest = line.substr(i + 1);
        std::string value_text = rest.substr(0, rest.find(' '));
        if (rest.find(' ') != std::string::npos) {
            std::string ts = rest.substr(rest.find(' ') + 1);
            if (ts.empty() || ts.find_first_not_of("-0123456789") != std::string::npos) { bad("bad timestamp"); continue; }
        }
        if (!parse_value(value_text, s.value)) { bad("bad value"); continue; }
        std::string family = family_of(s.name);
        if (!types.count(family)) bad("sample without a TYPE for its family");
        if (family != current_family) {
            if (finished_families.count(family)) bad("family's samples are not contiguous");
            if (!current_family.empty()) finished_families.insert(current_family);
            current_family = family;
        }
        std::string key = s.name + "{";
        for (const auto& [k, v] : s.labels) key += k + "=" + v + ",";
        key += "}";
        if (!series.insert(key).second) bad("duplicate series");
        const std::string type = types.count(family) ? types[family] : "";
        if (type == "histogram") {
            const std::string hist = series_of(family, s.labels);
            if (s.name == family + "_bucket") {
                if (!s.labels.count("le")) { bad("bucket without le"); continue; }
                double le;
                if (!parse_value(s.labels["le"], le)) { bad("bad le"); continue; }
                if (counts.count(hist) || sums.count(hist)) bad("bucket after _sum or _count");
                buckets[hist].push_back({le, s.value});
            } else if (s.name == family + "_count") {
                if (s.labels.count("le")) bad("_count with le");
                counts[hist] = s.value;
            } else if (s.name == family + "_sum") {
                if (s.labels.count("le")) bad("_sum with le");
                sums[hist] = true;
            } else {
                bad("histogram sample that is not _bucket, _sum or _count");
            }
        } else if (type == "counter") {
            if (s.value < 0) bad("negative counter");
        }
        if (samples != nullptr) samples->push_back(s);
    }
    std::set<std::string> histograms;  // every series of a histogram, whatever it showed
    for (const auto& [series_key, b] : buckets) histograms.insert(series_key);
    for (const auto& [series_key, n] : counts) histograms.insert(series_key);
    for (const auto& [series_key, present] : sums) histograms.insert(series_key);
    for (const auto& h : histograms) {
        const auto& b = buckets[h];
        if (b.empty() || !std::isinf(b.back().first)) { problems.push_back(h + ": no +Inf bucket last"); continue; }
        for (std::size_t k = 1; k < b.size(); ++k)
            if (b[k].first <= b[k - 1].first || b[k].second < b[k - 1].second)
                problems.push_back(h + ": buckets not increasing/cumulative");
        if (!counts.count(h) || counts[h] != b.back().second)
            problems.push_back(h + ": _count differs from the +Inf bucket");
        if (!sums[h]) problems.push_back(h + ": no _sum");
    }
    return problems;
}

}  // namespace artistsaid::test
