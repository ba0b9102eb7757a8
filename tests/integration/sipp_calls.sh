# tests/integration/sipp_calls.sh — SIPp's built-in uac through ser to SIPp's
# built-in uas. Sourced by test_sipp_*.sh after lib.sh, with PROTO=udp|tcp.
#
#   sipp_setup PROTO CHILDREN     write $T/ser.cfg, start the uas and ser
#   sipp_run RATE CALLS [NAME]    run the uac; prints its summary; sets SIPP_OK / SIPP_FAILED
#   sipp_all_ok CALLS             fail unless the last run completed CALLS calls, none failed

sipp_setup() {
    proto=$1 children=$2
    SER_PORT=$(free_port)
    UAS_PORT=$(free_port)
    [ "$UAS_PORT" = "$SER_PORT" ] && UAS_PORT=$((SER_PORT + 1))
    fwd=forward
    [ "$proto" = tcp ] && fwd=forward_tcp
    cat >"$T/ser.cfg" <<CFG
debug=1
children=$children
tcp_children=2
ctl_socket="unix:$T/ser.ctl"
listen=udp:127.0.0.1:$SER_PORT
listen=tcp:127.0.0.1:$SER_PORT
route {
    if (!mf_process_maxfwd_header("10")) {
        sl_send_reply("483", "Too Many Hops");
        break;
    };
    $fwd(127.0.0.1, $UAS_PORT);
}
CFG
    SIPP_T=u1
    [ "$proto" = tcp ] && SIPP_T=t1
    bg_start uas sipp -sn uas -i 127.0.0.1 -p "$UAS_PORT" -t "$SIPP_T" -nostdin -max_socket 64
    wait_port "$proto" "$UAS_PORT" 10 || fail "sipp uas did not start"
    start_ser "$T/ser.cfg"
}

sipp_run() {
    rate=$1 calls=$2 name=${3:-uac}
    uac_port=$(free_port)
    # -timeout bounds the run; a call that never completes counts as failed.
    timeout 120 sipp -sn uac "127.0.0.1:$SER_PORT" -i 127.0.0.1 -p "$uac_port" -t "$SIPP_T" \
        -r "$rate" -m "$calls" -l $((rate * 4)) -nostdin -timeout 90 -timeout_error \
        -recv_timeout 10000 -trace_stat -stf "$T/$name.csv" -fd 1 >"$T/$name.out" 2>&1
    SIPP_RC=$?
    SIPP_OK=$(awk -F';' 'NR==1{for(i=1;i<=NF;i++) if($i=="SuccessfulCall(C)") c=i} END{print $c+0}' "$T/$name.csv")
    SIPP_FAILED=$(awk -F';' 'NR==1{for(i=1;i<=NF;i++) if($i=="FailedCall(C)") c=i} END{print $c+0}' "$T/$name.csv")
    echo "$name: rate $rate/s, $calls calls: $SIPP_OK successful, $SIPP_FAILED failed (sipp rc $SIPP_RC)"
}

sipp_all_ok() {
    [ "$SIPP_RC" -eq 0 ] || fail "sipp exited with $SIPP_RC"
    [ "$SIPP_OK" -eq "$1" ] || fail "expected $1 successful calls, got $SIPP_OK"
    [ "$SIPP_FAILED" -eq 0 ] || fail "$SIPP_FAILED calls failed"
}
