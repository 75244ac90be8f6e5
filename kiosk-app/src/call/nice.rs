//! Limit libnice to chosen local addresses. libnice gathers candidates from
//! every interface but loopback; a terminal on a LAN wants that, but a test
//! on loopback (or in a network namespace) must name its addresses. The
//! only way is `nice_agent_add_local_address` on webrtcbin's agent.

use gst::glib::translate::ToGlibPtr;
use gst::prelude::*;

#[repr(C)]
struct NiceAddress {
    _opaque: [u8; 0],
}

#[link(name = "nice")]
unsafe extern "C" {
    fn nice_address_new() -> *mut NiceAddress;
    fn nice_address_free(a: *mut NiceAddress);
    fn nice_address_set_from_string(a: *mut NiceAddress, s: *const std::ffi::c_char) -> i32;
    fn nice_agent_add_local_address(
        agent: *mut gst::glib::gobject_ffi::GObject,
        a: *const NiceAddress,
    ) -> i32;
}

/// Add `addresses` as the only local addresses of `webrtcbin`'s ICE agent.
pub fn use_local_addresses(webrtcbin: &gst::Element, addresses: &[String]) -> anyhow::Result<()> {
    if addresses.is_empty() {
        return Ok(());
    }
    let ice = webrtcbin.property::<gst::glib::Object>("ice-agent");
    let agent = ice.property::<gst::glib::Object>("agent");
    for a in addresses {
        let c = std::ffi::CString::new(a.as_str())?;
        // SAFETY: the agent is a live NiceAgent (webrtcbin's libnice ICE
        // implementation exposes it as "agent"); the address is created,
        // filled from a valid C string and freed here.
        let ok = unsafe {
            let addr = nice_address_new();
            let parsed = nice_address_set_from_string(addr, c.as_ptr());
            let added =
                parsed != 0 && nice_agent_add_local_address(agent.to_glib_none().0, addr) != 0;
            nice_address_free(addr);
            added
        };
        if !ok {
            anyhow::bail!("not a usable local address for ICE: {a}");
        }
    }
    Ok(())
}
