#pragma once

#include <algorithm>
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
