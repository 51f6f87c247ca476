#ifndef ENCODA_CSVTAV1_SHIM_H
#define ENCODA_CSVTAV1_SHIM_H
#include <svt-av1/EbSvtAv1Enc.h>
#include <svt-av1/EbSvtAv1ErrorCodes.h>
#include <svt-av1/EbSvtAv1Metadata.h>
#endif
