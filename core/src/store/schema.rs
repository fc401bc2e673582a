//! Diesel's view of the tables in `migrations/`. Written by hand because it
//! has to describe both the SQLite and the PostgreSQL flavour: every column
//! uses a type both backends share.

diesel::table! {
    users (id) {
        id -> BigInt,
        username -> Text,
        display_name -> Text,
        email -> Nullable<Text>,
        role -> Text,
        source -> Text,
        password_hash -> Nullable<Text>,
        max_guests -> Nullable<Integer>,
        created_at -> BigInt,
        updated_at -> BigInt,
        directory_checked_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    tokens (id) {
        id -> BigInt,
        user_id -> BigInt,
        token_hash -> Text,
        created_at -> BigInt,
        expires_at -> BigInt,
        revoked_at -> Nullable<BigInt>,
        last_used_at -> Nullable<BigInt>,
        client_address -> Nullable<Text>,
    }
}

diesel::table! {
    login_failures (id) {
        id -> BigInt,
        username -> Text,
        client_addr -> Text,
        at -> BigInt,
    }
}

diesel::table! {
    images (id) {
        id -> BigInt,
        name -> Text,
        description -> Text,
        size_bytes -> BigInt,
        created_at -> BigInt,
        root_version -> Integer,
        segment_size_bytes -> BigInt,
    }
}

diesel::table! {
    root_versions (id) {
        id -> BigInt,
        image_id -> BigInt,
        version -> Integer,
        label -> Text,
        state -> Text,
        checksum -> Nullable<Text>,
        size_bytes -> BigInt,
        created_at -> BigInt,
        retired_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    lans (id) {
        id -> BigInt,
        name -> Text,
        cidr -> Text,
        gateway -> Text,
        dns -> Text,
        capacity -> Integer,
        created_at -> BigInt,
        removed_at -> Nullable<BigInt>,
        addresses_held -> BigInt,
    }
}

diesel::table! {
    guests (id) {
        id -> BigInt,
        name -> Text,
        owner_id -> Nullable<BigInt>,
        hostname -> Text,
        lan_id -> BigInt,
        ip_address -> Nullable<Text>,
        memory_mb -> Integer,
        image_id -> BigInt,
        auto_boot -> Bool,
        description -> Text,
        state -> Text,
        created_at -> BigInt,
        assigned_at -> Nullable<BigInt>,
        expires_at -> Nullable<BigInt>,
        expiry_warned_at -> Nullable<BigInt>,
        updated_at -> BigInt,
        root_version -> Nullable<Integer>,
        target_root_version -> Integer,
        ssh_host_key -> Nullable<Text>,
        reset_undo_until -> Nullable<BigInt>,
    }
}

diesel::table! {
    counters (name) {
        name -> Text,
        value -> BigInt,
    }
}

diesel::table! {
    settings (key) {
        key -> Text,
        value -> Text,
        updated_at -> BigInt,
    }
}

diesel::table! {
    service_catalog (id) {
        id -> BigInt,
        name -> Text,
        priority -> Integer,
        command -> Text,
        default_enabled -> Bool,
    }
}

diesel::table! {
    guest_services (guest_id, service_id) {
        guest_id -> BigInt,
        service_id -> BigInt,
        enabled -> Bool,
        state -> Text,
        updated_at -> BigInt,
    }
}

diesel::table! {
    commands (id) {
        id -> BigInt,
        guest_id -> BigInt,
        requested_by -> Nullable<BigInt>,
        text -> Text,
        status -> Text,
        result -> Nullable<Text>,
        claimed_by -> Nullable<Text>,
        created_at -> BigInt,
        dispatched_at -> Nullable<BigInt>,
        finished_at -> Nullable<BigInt>,
        request_id -> Nullable<Text>,
    }
}

diesel::table! {
    leases (id) {
        id -> BigInt,
        guest_id -> BigInt,
        protocol -> Text,
        port -> Integer,
        source_cidr -> Nullable<Text>,
        opened_by -> Nullable<BigInt>,
        created_at -> BigInt,
        expires_at -> BigInt,
        closed_at -> Nullable<BigInt>,
        close_reason -> Nullable<Text>,
    }
}

diesel::table! {
    jobs (id) {
        id -> BigInt,
        kind -> Text,
        status -> Text,
        requested_by -> Nullable<BigInt>,
        target -> Nullable<Text>,
        params -> Text,
        progress_done -> Integer,
        progress_total -> Integer,
        error -> Nullable<Text>,
        claimed_by -> Nullable<Text>,
        heartbeat_at -> Nullable<BigInt>,
        created_at -> BigInt,
        started_at -> Nullable<BigInt>,
        finished_at -> Nullable<BigInt>,
        result -> Nullable<Text>,
    }
}

diesel::table! {
    job_steps (id) {
        id -> BigInt,
        job_id -> BigInt,
        guest_id -> Nullable<BigInt>,
        seq -> Integer,
        name -> Text,
        status -> Text,
        detail -> Nullable<Text>,
        started_at -> Nullable<BigInt>,
        finished_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    batches (id) {
        id -> BigInt,
        job_id -> BigInt,
        requested_by -> Nullable<BigInt>,
        ldap_group -> Nullable<Text>,
        guests_per_user -> Integer,
        image_id -> BigInt,
        expires_at -> Nullable<BigInt>,
        created_at -> BigInt,
    }
}

diesel::table! {
    batch_items (id) {
        id -> BigInt,
        batch_id -> BigInt,
        username -> Text,
        user_id -> Nullable<BigInt>,
        status -> Text,
        guest_names -> Text,
        error -> Nullable<Text>,
        updated_at -> BigInt,
    }
}

diesel::table! {
    events (id) {
        id -> BigInt,
        at -> BigInt,
        kind -> Text,
        actor_id -> Nullable<BigInt>,
        actor -> Text,
        action -> Text,
        target -> Nullable<Text>,
        guest_id -> Nullable<BigInt>,
        client_addr -> Nullable<Text>,
        outcome -> Text,
        detail -> Nullable<Text>,
        request_id -> Nullable<Text>,
    }
}

diesel::table! {
    background_tasks (process, name) {
        process -> Text,
        name -> Text,
        last_started_at -> Nullable<BigInt>,
        last_succeeded_at -> Nullable<BigInt>,
        last_error -> Nullable<Text>,
        last_error_at -> Nullable<BigInt>,
        runs -> BigInt,
        failures -> BigInt,
        failing -> Bool,
        reported_at -> BigInt,
    }
}

diesel::table! {
    idempotency_keys (user_id, idempotency_key) {
        user_id -> BigInt,
        idempotency_key -> Text,
        fingerprint -> Text,
        status -> Integer,
        body -> Text,
        created_at -> BigInt,
    }
}

diesel::joinable!(tokens -> users (user_id));
diesel::joinable!(guests -> users (owner_id));
diesel::joinable!(guests -> lans (lan_id));
diesel::joinable!(guests -> images (image_id));
diesel::joinable!(root_versions -> images (image_id));
diesel::joinable!(guest_services -> guests (guest_id));
diesel::joinable!(guest_services -> service_catalog (service_id));
diesel::joinable!(commands -> guests (guest_id));
diesel::joinable!(leases -> guests (guest_id));
diesel::joinable!(job_steps -> jobs (job_id));
diesel::joinable!(batches -> jobs (job_id));
diesel::joinable!(batch_items -> batches (batch_id));

diesel::allow_tables_to_appear_in_same_query!(
    users,
    tokens,
    login_failures,
    images,
    root_versions,
    lans,
    guests,
    counters,
    settings,
    service_catalog,
    guest_services,
    commands,
    leases,
    jobs,
    job_steps,
    batches,
    batch_items,
    events,
    background_tasks,
    idempotency_keys,
);
