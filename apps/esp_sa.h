/*
 * esp_sa.h: ESP's SA file (sonded --tunnel ...,esp=FILE, sonde-gen --esp
 * FILE), parsed into the library's struct sonde_esp_conf.
 */
#ifndef SONDE_ESP_SA_H
#define SONDE_ESP_SA_H

#include <stdbool.h>
#include <stddef.h>

#include "sonde/sonde.h"

/* A number from 0 to max, all of s (0x for hex). */
bool parse_uint(const char *s, unsigned long max, unsigned long *v);
/* The SAs in the file at path (the format: esp_sa.c) into c; NULL, or what
 * is wrong, written into why.  Key bytes read are wiped from every buffer
 * but c. */
const char *esp_sa_file(struct sonde_esp_conf *c, const char *path, char *why, size_t size);

#endif
