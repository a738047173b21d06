#include "ve/quantize.h"
