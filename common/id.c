/*
 * The one rule for Depot's ids (include/depot/id.h). Characters are checked
 * one by one against an explicit set, never with <ctype.h> (locale), so the
 * rule is the same in every program and on every machine.
 */
#include "depot/id.h"

static bool id_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-' || c == '.';
}

bool depot_id_valid(const char *s, size_t max)
{
    size_t n = 0;
    if (!s)
        return false;
    for (; s[n]; n++)
        if (!id_char(s[n]) || n >= max)
            return false;
    return n > 0;
}

bool depot_dealer_id_valid(const char *s)
{
    return depot_id_valid(s, DEPOT_DEALER_MAX);
}
