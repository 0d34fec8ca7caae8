# schema_next.cmake - the schema of a pretend newer version of agora, for
# the compatibility tests: agora.proto plus one content kind and one field.
#
#   cmake -DIN=agora.proto -DOUT=dir/agora.proto [-DPACKAGE=agora_next] -P schema_next.cmake
#
# The extension goes in at the "// @next ..." marker lines of agora.proto, so
# no second copy of the schema is kept by hand.  It follows PROTOCOL.md,
# "Extending agora": kind 63 is a content kind (an older node carries it
# unread), and field 100 of Measure is a new field of a content message (an
# older node carries it and reads the rest of the measure).  With PACKAGE
# the messages get another protobuf package, so the generated C names
# (agora_next__record__...) can live in one program beside today's schema;
# the bytes on the wire do not depend on the package.
file(READ ${IN} text)

function(insert_at marker lines)
  string(FIND "${text}" "${marker}" at)
  if(at EQUAL -1)
    message(FATAL_ERROR "schema_next.cmake: marker '${marker}' not found in ${IN}")
  endif()
  string(REPLACE "${marker}" "${marker}\n${lines}" text "${text}")
  set(text "${text}" PARENT_SCOPE)
endfunction()

insert_at("// @next Record.body" "    TestNote test_note = 63;            // test build only")
insert_at("// @next Supersede.body" "    TestNote test_note = 63;            // test build only")
insert_at("// @next Measure" "  optional string test_extra = 100;    // test build only")
insert_at("// @next messages" "// A note: the test build's content kind 63.
message TestNote {
  optional string text = 1;            // required, long text
  optional string language = 2;        // BCP-47
}")

if(PACKAGE)
  string(FIND "${text}" "package agora;" at)
  if(at EQUAL -1)
    message(FATAL_ERROR "schema_next.cmake: 'package agora;' not found in ${IN}")
  endif()
  string(REPLACE "package agora;" "package ${PACKAGE};" text "${text}")
endif()

# Write only on change, so the generated C is not rebuilt needlessly.
if(EXISTS ${OUT})
  file(READ ${OUT} old)
  if(old STREQUAL text)
    return()
  endif()
endif()
file(WRITE ${OUT} "${text}")
