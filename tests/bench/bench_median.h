#pragma once

#include <algorithm>
#include <utility>
#include <vector>

// The median of a benchmark's runs (the mean of the middle two for an even count); 0 when empty.
inline double medianOf(std::vector<double> values)
{
    if (values.empty())
        return 0;
    std::sort(values.begin(), values.end());
    const std::size_t n = values.size();
    return n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

// The median of one field over the runs' records.
template <typename Record, typename Field>
double medianOf(const std::vector<Record> &records, Field field)
{
    std::vector<double> values(records.size());
    std::transform(records.begin(), records.end(), values.begin(), field);
    return medianOf(std::move(values));
}
