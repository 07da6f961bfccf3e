/* csim_tb.cpp: C-simulation testbench of the generated HLS models.
 *
 *   csim_tb MODEL DIR
 *
 * DIR holds what tests/test_hls_csim.py wrote from the golden bundle:
 *   MODEL.meta           "vectors N\nlayer_vectors K\n"
 *   MODEL.inputs.bin     N x in_elems int8 (the wire input)
 *   MODEL.logits.bin     N x out_elems int32 LE (integer simulator outputs)
 *   MODEL.layer_NN.bin   K x elems int32 LE (integer simulator, layer NN)
 * Every vector goes through the synthesis top; its outputs must equal the
 * simulator's bit for bit; for the first K vectors so must every layer's
 * tensor (read through the C-simulation taps). Every pipelined loop must run
 * the trip count hil/targets/hls/cycles.py modelled. Prints the first mismatch (vector,
 * layer, index) and a summary; exit status 0 only if everything matched.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <string>
#include <vector>

#include "hil_hls/csim.h"
#include "hil_hls/model.h"

namespace {

bool read_file(const std::string &path, std::vector<unsigned char> *out)
{
    FILE *f = fopen(path.c_str(), "rb");
    if (f == 0) {
        return false;
    }
    unsigned char buf[65536];
    size_t n;
    out->clear();
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) {
        out->insert(out->end(), buf, buf + n);
    }
    fclose(f);
    return true;
}

int32_t le32(const unsigned char *p)
{
    return (int32_t)((uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24));
}

}  // namespace

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: csim_tb MODEL DIR\n");
        return 2;
    }
    const std::string name = argv[1], dir = argv[2];
    const hil::ModelDesc *m = 0;
    for (int i = 0; i < hil::model_count(); i++) {
        if (name == hil::model(i)->name) {
            m = hil::model(i);
        }
    }
    if (m == 0) {
        fprintf(stderr, "csim_tb: model %s is not in this build\n", name.c_str());
        return 2;
    }
    const std::string base = dir + "/" + name;
    std::vector<unsigned char> meta, inputs, logits;
    if (!read_file(base + ".meta", &meta) || !read_file(base + ".inputs.bin", &inputs) ||
        !read_file(base + ".logits.bin", &logits)) {
        fprintf(stderr, "csim_tb: cannot read %s.{meta,inputs.bin,logits.bin}\n", base.c_str());
        return 2;
    }
    meta.push_back(0);
    int n_vec = 0, n_layer_vec = 0;
    if (sscanf((const char *)&meta[0], "vectors %d layer_vectors %d", &n_vec, &n_layer_vec) != 2 ||
        inputs.size() != (size_t)n_vec * m->in_elems || logits.size() != (size_t)n_vec * m->out_elems * 4) {
        fprintf(stderr, "csim_tb: %s: meta and file sizes disagree with the model\n", base.c_str());
        return 2;
    }
    const int L = m->layer_count;
    std::vector<std::vector<unsigned char> > golden(L);
    for (int k = 0; k < L && n_layer_vec > 0; k++) {
        char suffix[32];
        snprintf(suffix, sizeof suffix, ".layer_%02d.bin", k);
        if (!read_file(base + suffix, &golden[k]) || golden[k].size() != (size_t)n_layer_vec * m->layers[k].elems * 4) {
            fprintf(stderr, "csim_tb: %s%s missing or of the wrong size\n", base.c_str(), suffix);
            return 2;
        }
    }

    long out_bad = 0, layer_bad = 0, layer_checked = 0, trip_bad = 0;
    std::vector<int32_t> out(m->out_elems);
    std::vector<std::vector<int32_t> > tensors(L);
    std::vector<int32_t *> tptr(L);
    std::vector<uint64_t> trips(L);
    for (int k = 0; k < L; k++) {
        tensors[k].assign(m->layers[k].elems, 0);
        tptr[k] = &tensors[k][0];
    }
    hil::csim::Probe probe;
    probe.layers = L;
    probe.trips = &trips[0];
    for (int v = 0; v < n_vec; v++) {
        const bool deep = v < n_layer_vec;
        probe.tensors = deep ? &tptr[0] : 0;
        trips.assign(L, 0);
        hil::csim::probe() = &probe;
        m->run((const int8_t *)&inputs[(size_t)v * m->in_elems], &out[0]);
        hil::csim::probe() = 0;
        for (uint32_t i = 0; i < m->out_elems; i++) {
            const int32_t want = le32(&logits[((size_t)v * m->out_elems + i) * 4]);
            if (out[i] != want) {
                if (out_bad++ == 0) {
                    printf("MISMATCH %s vector %d output %u: hls %d, integer simulator %d\n", m->name, v, i, out[i],
                           want);
                }
                break;
            }
        }
        for (int k = 0; k < L; k++) {
            if (trips[k] != m->layers[k].trips && trip_bad++ == 0) {
                printf("TRIPS %s vector %d layer %s: %llu pipelined iterations, the cycle model assumed %u\n",
                       m->name, v, m->layers[k].name, (unsigned long long)trips[k], (unsigned)m->layers[k].trips);
            }
        }
        for (int k = 0; deep && k < L; k++) {
            const uint32_t elems = m->layers[k].elems;
            layer_checked++;
            for (uint32_t i = 0; i < elems; i++) {
                const int32_t want = le32(&golden[k][((size_t)v * elems + i) * 4]);
                if (tensors[k][i] != want) {
                    if (layer_bad++ == 0) {
                        printf("MISMATCH %s vector %d layer %s index %u: hls %d, integer simulator %d\n", m->name, v,
                               m->layers[k].name, i, tensors[k][i], want);
                    }
                    break;
                }
            }
        }
    }
    printf("csim %s (%s): %d vectors, %ld with output mismatches; %ld layer tensors compared, %ld differ; "
           "trip counts %s\n", m->name, m->qmodel_hash, n_vec, out_bad, layer_checked, layer_bad,
           trip_bad ? "DIFFER from the cycle model" : "as modelled");
    printf("modelled cycles (hil/targets/hls/cycles.py, not measured): load %u", (unsigned)m->load_cycles);
    for (int k = 0; k < L; k++) {
        printf(", %s %u", m->layers[k].name, (unsigned)m->layers[k].cycles);
    }
    printf("; total %llu, interval %u\n", (unsigned long long)m->total_cycles, (unsigned)m->interval);
    const bool ok = out_bad == 0 && layer_bad == 0 && trip_bad == 0;
    printf("%s\n", ok ? "PASS" : "FAIL");
    return ok ? 0 : 1;
}
