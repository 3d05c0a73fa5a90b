#!/bin/bash
# dump.sh BIN DIR OUT : boiler features per page
BIN=$1; DIR=$2; OUT=$3; mkdir -p $OUT
ls $DIR | sed 's/\.html$//' | xargs -P2 -I{} sh -c "echo $DIR/{}.html > $OUT/{}.list; GANNET_DEBUG=boiler $BIN $OUT/{}.list $OUT/x 2>&1 >/dev/null | grep '^boiler ' > $OUT/{}.txt; rm $OUT/{}.list"
