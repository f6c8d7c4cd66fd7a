# The QEMU multiqueue block layer series: fetch, apply, build, test.
# See README.md.

S := scripts

.PHONY: all deps fetch apply build pristine bench bench-bundle check check-bisect check-sanitize tree export lint clean help

all: deps fetch apply build          ## set up and run the main job

deps:                                ## install Debian packages (root/sudo)
	$(S)/install-deps.sh

fetch:                               ## pristine v10.2.2 into work/qemu
	$(S)/fetch.sh

apply: fetch                         ## git am + quilt check of the series
	$(S)/apply.sh

build: apply                         ## configure and build work/build
	$(S)/build.sh

pristine:                            ## build v10.2.2 in work/build-pristine
	$(S)/build-pristine.sh

bench:                               ## series vs pristine: bench/results.{json,md}, scaling.png
	$(S)/bench.py

bench-bundle:                        ## bench/bench-bundle.tgz: both benchmarks + sweep.sh for the device machine
	$(S)/bench-bundle.sh

check:                               ## lint, apply, build, unit, qtest, iotests
	$(S)/check.sh

lint: fetch
	$(S)/lint.sh

check-bisect:                        ## build + unit tests + qtests (+ MQ_BISECT_IOTESTS) at every patch
	$(S)/check-bisect.sh

check-sanitize:                      ## TSan and ASan/UBSan builds: unit tests, qtests
	$(S)/check-sanitize.sh

tree: fetch                          ## work/qemu branch 'series' = the series
	$(S)/apply.sh

export:                              ## branch 'series' -> patches/ and series
	$(S)/export.sh

clean:                               ## remove work/ (not the download cache)
	rm -rf work

help:
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | sed 's/:.*##/:/'
